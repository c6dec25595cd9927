// What a pasted link is: a YouTube video (played through YouTube's IFrame
// API), an HLS stream (.m3u8, played where the browser does it natively),
// or a video file (MP4, WebM, ...) for a <video> element.
export const WATCH_URL_MAX = 2048; // bytes; the registry's REG_WATCH_URL_MAX

export type WatchSource = { kind: "youtube"; videoId: string } | { kind: "hls" } | { kind: "file" };

const YOUTUBE_ID = /^[A-Za-z0-9_-]{11}$/;
const YOUTUBE_HOSTS = new Set(["youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com", "youtube-nocookie.com", "www.youtube-nocookie.com"]);

// normalizeUrl checks a pasted link: an absolute http(s) URL with a host,
// at most WATCH_URL_MAX bytes once encoded. Returns the URL or an error text.
export function normalizeUrl(text: string): { url: string } | { error: string } {
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    return { error: "Paste a full link, starting with https://" };
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return { error: "Only http:// and https:// links can be shared" };
  if (!u.hostname) return { error: "The link has no host" };
  const url = u.href;
  if (new TextEncoder().encode(url).length > WATCH_URL_MAX) return { error: `The link is longer than ${WATCH_URL_MAX} bytes` };
  return { url };
}

// youTubeId returns the video id of a YouTube link, or "".
export function youTubeId(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "";
  }
  const host = u.hostname.toLowerCase();
  let id = "";
  if (host === "youtu.be") id = u.pathname.slice(1).split("/")[0];
  else if (YOUTUBE_HOSTS.has(host)) {
    const parts = u.pathname.split("/").filter(Boolean);
    if (parts[0] === "watch") id = u.searchParams.get("v") ?? "";
    else if (["embed", "shorts", "live", "v"].includes(parts[0] ?? "")) id = parts[1] ?? "";
  }
  return YOUTUBE_ID.test(id) ? id : "";
}

export function classify(url: string): WatchSource {
  const videoId = youTubeId(url);
  if (videoId) return { kind: "youtube", videoId };
  try {
    if (/\.m3u8$/i.test(new URL(url).pathname)) return { kind: "hls" };
  } catch {
    /* not a URL: the <video> reports the error */
  }
  return { kind: "file" };
}
