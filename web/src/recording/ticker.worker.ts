// A clock for drawing recordings: the page posts an interval in ms (0 stops)
// and gets a message on every tick. Timers of a dedicated worker keep their
// pace while the tab is in the background, where the page's own timers are
// slowed to once a second or less and requestAnimationFrame stops.
let timer: ReturnType<typeof setInterval> | undefined;

self.onmessage = (ev: MessageEvent<number>) => {
  clearInterval(timer);
  if (ev.data > 0) timer = setInterval(() => self.postMessage(0), ev.data);
};
