/* The chat's WebSocket: opened on demand, reopened with backoff when it drops; a message typed while
 * it is down waits in a one-frame outbox. */

export function chatSocket({ path, onEvent, onOpen, onDrop, onStatus, T }) {
  let socket = null;
  let attempts = 0;
  let retry = null;
  let outbox = [];

  function url() {
    return (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + path;
  }

  function connect() {
    retry = null;
    if (socket) return;
    const current = (socket = new WebSocket(url()));
    current.addEventListener("open", () => {
      attempts = 0;
      onOpen();
      while (outbox.length && current.readyState === WebSocket.OPEN) current.send(outbox.shift());
    });
    current.addEventListener("message", (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (event && typeof event.type === "string") onEvent(event);
    });
    current.addEventListener("close", () => {
      if (socket !== current) return;
      socket = null;
      onDrop();
      reconnectLater();
    });
  }

  function reconnectLater() {
    if (retry) return;
    const delay = Math.min(30000, 500 * Math.pow(2, attempts)) * (0.75 + Math.random() * 0.5);
    attempts = Math.min(attempts + 1, 10);
    onStatus(T.reconnecting);
    retry = window.setTimeout(connect, delay);
  }

  window.addEventListener("online", () => {
    if (retry) {
      window.clearTimeout(retry);
      connect();
    }
  });

  /* Send a frame now, or a message as soon as the socket is open; false if it cannot go now. */
  function send(frame) {
    const data = JSON.stringify(frame);
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(data);
      return true;
    }
    if (frame.type !== "message") {
      onStatus(T.reconnecting);
      return false;
    }
    outbox = [data];
    onStatus(T.connecting);
    if (!socket && retry) {
      window.clearTimeout(retry);
      connect();
    }
    return true;
  }

  return { connect, send };
}
