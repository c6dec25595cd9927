// GLSL ES 3.00 sources of the filter renderer (renderer.ts). Every pass draws
// one full-screen triangle; textures hold images top row first (as uploaded,
// no UNPACK_FLIP_Y), so only the last pass, onto the canvas, flips y.

export const VERTEX = `#version 300 es
in vec2 a_pos;
uniform float u_flipY; // 1 drawing onto the canvas, 0 into a framebuffer
out vec2 v_uv;
void main() {
  v_uv = vec2(a_pos.x * 0.5 + 0.5, mix(a_pos.y * 0.5 + 0.5, 0.5 - a_pos.y * 0.5, u_flipY));
  gl_Position = vec4(a_pos, 0.0, 1.0);
}`;

// Colour modes of COLOR, by u_mode.
export const MODE = {
  copy: 0,
  grayscale: 1,
  sepia: 2,
  invert: 3,
  pixelate: 4,
  mirror: 5,
  vintage: 6,
  comic: 7,
} as const;

// The per-pixel filters: one program, the mode picks the branch.
export const COLOR = `#version 300 es
precision highp float;
uniform sampler2D u_src;
uniform int u_mode;
uniform vec2 u_size;  // source size in pixels
uniform float u_time; // seconds (vintage's film grain moves)
in vec2 v_uv;
out vec4 outColor;

const vec3 LUMA = vec3(0.2126, 0.7152, 0.0722);

vec3 sepia(vec3 c) {
  return clamp(vec3(dot(c, vec3(0.393, 0.769, 0.189)),
                    dot(c, vec3(0.349, 0.686, 0.168)),
                    dot(c, vec3(0.272, 0.534, 0.131))), 0.0, 1.0);
}

float hash(vec2 p) {
  return fract(sin(dot(p, vec2(12.9898, 78.233))) * 43758.5453);
}

float lumaAt(vec2 uv) {
  return dot(texture(u_src, uv).rgb, LUMA);
}

void main() {
  vec2 uv = v_uv;
  if (u_mode == ${MODE.mirror}) uv.x = 1.0 - uv.x;
  if (u_mode == ${MODE.pixelate}) {
    // Square blocks of 1/40 of the width, sampled at their centres.
    float block = max(4.0, floor(u_size.x / 40.0));
    uv = (floor(uv * u_size / block) + 0.5) * block / u_size;
  }
  vec3 c = texture(u_src, uv).rgb;
  if (u_mode == ${MODE.grayscale}) {
    c = vec3(dot(c, LUMA));
  } else if (u_mode == ${MODE.sepia}) {
    c = sepia(c);
  } else if (u_mode == ${MODE.invert}) {
    c = 1.0 - c;
  } else if (u_mode == ${MODE.vintage}) {
    // Faded warm print: part sepia, lifted blacks, dimmed whites, a vignette, grain.
    c = mix(c, sepia(c), 0.65);
    c = c * 0.8 + 0.1;
    c *= vec3(1.07, 0.98, 0.84);
    vec2 d = (uv - 0.5) * vec2(u_size.x / u_size.y, 1.0);
    c *= mix(1.0, 0.45, smoothstep(0.4, 0.95, length(d)));
    c += (hash(floor(uv * u_size) + fract(u_time) * 97.0) - 0.5) * 0.07;
  } else if (u_mode == ${MODE.comic}) {
    // Posterized, more saturated colour with dark outlines where the
    // brightness changes fast (Sobel on luma, 1.5 px apart).
    vec2 t = 1.5 / u_size;
    float tl = lumaAt(uv + t * vec2(-1.0, -1.0)), tc = lumaAt(uv + t * vec2(0.0, -1.0)), tr = lumaAt(uv + t * vec2(1.0, -1.0));
    float ml = lumaAt(uv + t * vec2(-1.0, 0.0)), mr = lumaAt(uv + t * vec2(1.0, 0.0));
    float bl = lumaAt(uv + t * vec2(-1.0, 1.0)), bc = lumaAt(uv + t * vec2(0.0, 1.0)), br = lumaAt(uv + t * vec2(1.0, 1.0));
    float gx = (tr + 2.0 * mr + br) - (tl + 2.0 * ml + bl);
    float gy = (bl + 2.0 * bc + br) - (tl + 2.0 * tc + tr);
    float edge = smoothstep(0.3, 0.6, length(vec2(gx, gy)));
    vec3 vivid = clamp(mix(vec3(dot(c, LUMA)), c, 1.6), 0.0, 1.0);
    vec3 poster = floor(vivid * 4.0 + 0.5) / 4.0;
    c = mix(poster, vec3(0.06, 0.05, 0.08), edge);
  }
  outColor = vec4(clamp(c, 0.0, 1.0), 1.0);
}`;

// One direction of a Gaussian blur: 9 taps read through 5 bilinear samples
// (weights and offsets of a 9-tap binomial kernel merged pairwise). u_step
// is the distance between taps in texture coordinates; 0 copies (the weights
// add up to 1), which with bilinear sampling at half size averages 2×2 pixels.
export const BLUR = `#version 300 es
precision highp float;
uniform sampler2D u_src;
uniform vec2 u_step;
in vec2 v_uv;
out vec4 outColor;
void main() {
  vec3 c = texture(u_src, v_uv).rgb * 0.2270270270;
  c += (texture(u_src, v_uv + u_step * 1.3846153846).rgb + texture(u_src, v_uv - u_step * 1.3846153846).rgb) * 0.3162162162;
  c += (texture(u_src, v_uv + u_step * 3.2307692308).rgb + texture(u_src, v_uv - u_step * 3.2307692308).rgb) * 0.0702702703;
  outColor = vec4(c, 1.0);
}`;

// Blurred background behind the sharp person: the mask (the segmenter's
// confidence that a pixel is the person, in its red channel) picks between
// the source and its blur; without a mask, everything is blurred.
export const COMPOSITE = `#version 300 es
precision highp float;
uniform sampler2D u_src;
uniform sampler2D u_blur;
uniform sampler2D u_mask;
uniform float u_useMask;
in vec2 v_uv;
out vec4 outColor;
void main() {
  vec3 sharp = texture(u_src, v_uv).rgb;
  vec3 soft = texture(u_blur, v_uv).rgb;
  float person = u_useMask > 0.5 ? smoothstep(0.3, 0.7, texture(u_mask, v_uv).r) : 0.0;
  outColor = vec4(mix(soft, sharp, person), 1.0);
}`;
