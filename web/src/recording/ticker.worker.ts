// A clock for drawing recordings: the page posts an interval in ms (0 stops)
// and gets a message on every tick. Timers of a dedicated worker keep their
// pace while the tab is in the background, where the page's own timers are
// slowed to once a second or less and requestAnimationFrame stops.
//
// At most one tick is outstanding: the page posts -1 once it has drawn, and
// the ticks that fall due before that are dropped. Without this, a page that
// draws slower than the interval (a busy machine) gets ticks queued faster
// than it handles them: its task queue grows without bound and everything
// else on the page (the WebSocket, the chat, input) waits behind it.
let timer: ReturnType<typeof setInterval> | undefined;
let outstanding = false;

self.onmessage = (ev: MessageEvent<number>) => {
  if (ev.data < 0) {
    outstanding = false;
    return;
  }
  clearInterval(timer);
  outstanding = false;
  if (ev.data > 0)
    timer = setInterval(() => {
      if (outstanding) return;
      outstanding = true;
      self.postMessage(0);
    }, ev.data);
};
