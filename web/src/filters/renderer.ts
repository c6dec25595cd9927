// FilterRenderer draws one video frame through a filter onto its canvas with
// WebGL2: a single pass for the per-pixel filters; for Blur and Background
// blur, the frame shrunk to a quarter (two 2×2 averaging steps), blurred there
// in two separable Gaussian rounds, and drawn back over the frame (the whole
// of it, or where the segmentation mask says there is no person).
// Runs on the main thread; one renderer per camera pipeline.
import type { FilterId } from "./catalog";
import { BLUR, COLOR, COMPOSITE, MODE, VERTEX } from "./shaders";

// Distance between blur taps, in quarter-size pixels: two rounds of the
// 9-tap kernel at this spread blur by about 12 px of a 640-wide frame.
const BLUR_SPREAD = 1.6;
const BLUR_ROUNDS = 2;

interface Target {
  tex: WebGLTexture;
  fb: WebGLFramebuffer;
  w: number;
  h: number;
}

export class FilterRenderer {
  readonly canvas: HTMLCanvasElement;
  private readonly gl: WebGL2RenderingContext;
  private readonly color: WebGLProgram;
  private readonly blur: WebGLProgram;
  private readonly composite: WebGLProgram;
  private readonly src: WebGLTexture;
  private readonly mask: WebGLTexture;
  private maskSet = false;
  // half, quarter, and a second quarter to blur back and forth
  private targets: Target[] = [];
  private readonly uniforms = new Map<WebGLProgram, Map<string, WebGLUniformLocation | null>>();

  // Throws when WebGL2 is not available.
  constructor(canvas: HTMLCanvasElement = document.createElement("canvas")) {
    this.canvas = canvas;
    const gl = canvas.getContext("webgl2", {
      alpha: false,
      antialias: false,
      depth: false,
      stencil: false,
      premultipliedAlpha: false,
      preserveDrawingBuffer: false,
      powerPreference: "low-power",
    });
    if (!gl) throw new Error("WebGL2 is not available");
    this.gl = gl;
    this.color = this.program(COLOR);
    this.blur = this.program(BLUR);
    this.composite = this.program(COMPOSITE);
    // One triangle that covers the viewport.
    const vao = gl.createVertexArray();
    gl.bindVertexArray(vao);
    const buf = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, buf);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 3, -1, -1, 3]), gl.STATIC_DRAW);
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
    this.src = this.texture();
    this.mask = this.texture();
  }

  // render draws source (w×h pixels) through filter onto the canvas, which
  // takes the source's size. timeMs moves the film grain of Vintage.
  render(source: TexImageSource, w: number, h: number, filter: FilterId, timeMs: number): void {
    const gl = this.gl;
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.src);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, source);
    if (filter === "blur" || filter === "background-blur") {
      const blurred = this.blurred(w, h);
      this.toCanvas(this.composite, w, h);
      this.bind(this.composite, 0, "u_src", this.src);
      this.bind(this.composite, 1, "u_blur", blurred);
      this.bind(this.composite, 2, "u_mask", this.mask);
      gl.uniform1f(this.loc(this.composite, "u_useMask"), filter === "background-blur" && this.maskSet ? 1 : 0);
    } else {
      this.toCanvas(this.color, w, h);
      this.bind(this.color, 0, "u_src", this.src);
      gl.uniform1i(this.loc(this.color, "u_mode"), filter === "none" ? MODE.copy : MODE[filter]);
      gl.uniform2f(this.loc(this.color, "u_size"), w, h);
      gl.uniform1f(this.loc(this.color, "u_time"), timeMs / 1000);
    }
    gl.drawArrays(gl.TRIANGLES, 0, 3);
  }

  // setMask takes the segmenter's latest mask (any size; drawn stretched
  // over the frame it was computed from). Call it while mask is valid.
  setMask(mask: TexImageSource): void {
    const gl = this.gl;
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.mask);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, mask);
    this.maskSet = true;
  }

  clearMask(): void {
    this.maskSet = false;
  }

  dispose(): void {
    this.gl.getExtension("WEBGL_lose_context")?.loseContext();
  }

  // blurred shrinks the source texture to a quarter, blurs it there and
  // returns the texture holding the result.
  private blurred(w: number, h: number): WebGLTexture {
    const gl = this.gl;
    const [half, q1, q2] = this.sizedTargets(w, h);
    const pass = (from: WebGLTexture, to: Target, dx: number, dy: number) => {
      gl.bindFramebuffer(gl.FRAMEBUFFER, to.fb);
      gl.viewport(0, 0, to.w, to.h);
      gl.useProgram(this.blur);
      gl.uniform1f(this.loc(this.blur, "u_flipY"), 0);
      this.bind(this.blur, 0, "u_src", from);
      gl.uniform2f(this.loc(this.blur, "u_step"), dx, dy);
      gl.drawArrays(gl.TRIANGLES, 0, 3);
    };
    pass(this.src, half, 0, 0);
    pass(half.tex, q1, 0, 0);
    for (let i = 0; i < BLUR_ROUNDS; i++) {
      pass(q1.tex, q2, BLUR_SPREAD / q1.w, 0);
      pass(q2.tex, q1, 0, BLUR_SPREAD / q1.h);
    }
    return q1.tex;
  }

  private sizedTargets(w: number, h: number): Target[] {
    const hw = Math.max(1, Math.ceil(w / 2)), hh = Math.max(1, Math.ceil(h / 2));
    const qw = Math.max(1, Math.ceil(w / 4)), qh = Math.max(1, Math.ceil(h / 4));
    if (this.targets.length === 3 && this.targets[0].w === hw && this.targets[0].h === hh) return this.targets;
    const gl = this.gl;
    for (const t of this.targets) {
      gl.deleteTexture(t.tex);
      gl.deleteFramebuffer(t.fb);
    }
    this.targets = [this.target(hw, hh), this.target(qw, qh), this.target(qw, qh)];
    return this.targets;
  }

  private target(w: number, h: number): Target {
    const gl = this.gl;
    const tex = this.texture();
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, w, h, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
    const fb = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, tex, 0);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    return { tex, fb, w, h };
  }

  private toCanvas(program: WebGLProgram, w: number, h: number): void {
    const gl = this.gl;
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.viewport(0, 0, w, h);
    gl.useProgram(program);
    gl.uniform1f(this.loc(program, "u_flipY"), 1);
  }

  private bind(program: WebGLProgram, unit: number, name: string, tex: WebGLTexture): void {
    const gl = this.gl;
    gl.activeTexture(gl.TEXTURE0 + unit);
    gl.bindTexture(gl.TEXTURE_2D, tex);
    gl.uniform1i(this.loc(program, name), unit);
  }

  private loc(program: WebGLProgram, name: string): WebGLUniformLocation | null {
    let m = this.uniforms.get(program);
    if (!m) this.uniforms.set(program, (m = new Map()));
    if (!m.has(name)) m.set(name, this.gl.getUniformLocation(program, name));
    return m.get(name) ?? null;
  }

  private texture(): WebGLTexture {
    const gl = this.gl;
    const tex = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, tex);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    return tex;
  }

  private program(fragment: string): WebGLProgram {
    const gl = this.gl;
    const p = gl.createProgram();
    for (const [type, text] of [
      [gl.VERTEX_SHADER, VERTEX],
      [gl.FRAGMENT_SHADER, fragment],
    ] as const) {
      const s = gl.createShader(type);
      if (!s) throw new Error("WebGL: createShader failed");
      gl.shaderSource(s, text);
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(`WebGL shader: ${gl.getShaderInfoLog(s)}`);
      gl.attachShader(p, s);
    }
    gl.bindAttribLocation(p, 0, "a_pos");
    gl.linkProgram(p);
    if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(`WebGL program: ${gl.getProgramInfoLog(p)}`);
    return p;
  }
}
