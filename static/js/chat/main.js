/* MCPshop chat widget: the shopping assistant on every page, over the /ws/chat/ WebSocket (an ES module).
 *
 * Configuration comes from the widget's data-config attribute (no inline script). The panel opens only
 * when the shopper asks (the header's Assistant button, or a link they followed from the open panel);
 * on wide screens it sits beside the page, which narrows to make room; on small ones it is a sheet
 * under the page, which scrolls above it. */

import { addToCart, showCartCount } from "../lib/cart.js";
import { sitePath } from "../lib/dom.js";
import * as cards from "./cards.js";
import { chatLog, renderText } from "./log.js";
import { loadHistory, restore, welcome } from "./history.js";
import { chatSocket } from "./socket.js";
import { chatStore } from "./store.js";

const root = document.querySelector("[data-chat]");
const toggle = document.querySelector("[data-chat-toggle]");
let config = null;
try {
  config = root && toggle && window.WebSocket && JSON.parse(root.getAttribute("data-config"));
} catch (error) {
  config = null;
}
if (config) start(config);

function start(config) {
  const T = config.strings;
  const panel = root.querySelector("[data-chat-panel]");
  const form = root.querySelector("[data-chat-form]");
  const input = root.querySelector("[data-chat-input]");
  const sendButton = root.querySelector("[data-chat-send]");
  const status = root.querySelector("[data-chat-status]");
  const ui = { config, T, log: chatLog(root.querySelector("[data-chat-log]"), T) };
  const store = chatStore(config.user);
  let conversationId = store.conversation;
  input.maxLength = config.max_chars;
  root.hidden = false;
  toggle.hidden = false;

  function setStatus(text) {
    status.textContent = text || "";
  }

  // One turn at a time: the answer streams into a bubble, other events go between bubbles. ------

  let turn = null;
  let renderQueued = false;
  let awaitingConfirmation = null; // the card whose Confirm was pressed, until the order (or an error) comes

  function beginTurn() {
    turn = { body: null, text: "" };
    sendButton.disabled = true;
    root.classList.add("chat-busy");
    setStatus(T.thinking);
  }

  function flushText() {
    renderQueued = false;
    if (turn && turn.body) ui.log.follow(() => renderText(turn.body, turn.text));
  }

  function closeBubble() {
    if (turn && turn.body) {
      flushText();
      turn.body.parentNode.removeAttribute("aria-busy");
      turn.body = null;
      turn.text = "";
    }
  }

  function endTurn(interrupted) {
    if (!turn) return;
    closeBubble();
    if (interrupted) ui.log.note(T.interrupted, "chat-error");
    turn = null;
    sendButton.disabled = false;
    root.classList.remove("chat-busy");
    setStatus("");
  }

  function settleConfirmation(text, failed) {
    if (awaitingConfirmation) awaitingConfirmation.settle(text, failed);
    awaitingConfirmation = null;
  }

  /* Show one event: live from the socket, or restored from the conversation's history. */
  function show(event) {
    switch (event.type) {
      case "tool":
        return cards.toolNote(ui, event);
      case "products":
        return cards.products(ui, event.items);
      case "cart":
        return cards.cartNote(ui, event.cart);
      case "order":
        return cards.orderCard(ui, event.order);
      case "error":
        return cards.errorNote(ui, event).setAttribute("role", "alert");
    }
  }

  function handle(event) {
    switch (event.type) {
      case "conversation":
        conversationId = event.id;
        store.setConversation(conversationId);
        return;
      case "delta":
        if (!turn) beginTurn();
        if (!turn.body) {
          turn.body = ui.log.message("assistant", "");
          turn.body.parentNode.setAttribute("aria-busy", "true");
        }
        turn.text += event.text;
        if (!renderQueued) {
          renderQueued = true;
          window.requestAnimationFrame(flushText);
        }
        return;
      case "done":
        return endTurn(false);
      case "confirm_required":
        closeBubble();
        cards.confirmationCard(ui, event, answer);
        return;
      case "cart":
        showCartCount(event.cart.count);
        break;
      case "order":
        settleConfirmation(T.confirmed, false);
        break;
      case "error":
        settleConfirmation(event.message || T.failed, true);
        break;
    }
    closeBubble();
    show(event);
  }

  function answer(type, token, outcome) {
    if (!socket.send({ type: type, token: token })) return false;
    awaitingConfirmation = outcome;
    input.focus();
    return true;
  }

  const socket = chatSocket({
    path: config.socket,
    T,
    onEvent: handle,
    onOpen: () => turn || setStatus(""),
    onDrop: () => {
      endTurn(Boolean(turn));
      settleConfirmation(T.failed, true);
    },
    onStatus: setStatus,
  });

  let started = false;

  async function begin() {
    if (started) return;
    started = true;
    if (!config.guest_ready) {
      // A guest's chat uses the cart token of their session: make sure they have one (and its cookie).
      await fetch(config.session_url, {
        method: "POST",
        headers: { "X-CSRFToken": config.csrf, Accept: "application/json" },
        credentials: "same-origin",
      }).catch(() => {});
    }
    const history = await loadHistory(config, conversationId);
    if (history === null) {
      conversationId = null; // gone (or someone else's): start afresh
      store.setConversation(null);
    } else if (history) {
      restore(ui, history, show);
    }
    welcome(ui, submitText);
    socket.connect();
  }

  // Opening and closing ---------------------------------------------------------------------------

  function setOpen(open, moveFocus) {
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    root.classList.toggle("chat-open", open);
    document.documentElement.classList.toggle("chat-open", open);
    if (open) {
      begin();
      if (moveFocus) input.focus();
    } else if (moveFocus) {
      toggle.focus();
    }
  }

  toggle.addEventListener("click", () => setOpen(panel.hidden, true));
  root.querySelector("[data-chat-close]").addEventListener("click", () => setOpen(false, true));
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      setOpen(false, true);
    }
  });

  // A link followed from the open panel opens it again on the page it leads to.
  panel.addEventListener("click", (event) => {
    const anchor = event.target.closest("a[href]");
    if (!anchor || !sitePath(anchor.getAttribute("href"))) return;
    const url = new URL(anchor.href);
    const signIn = anchor.classList.contains("chat-sign-in");
    store.reopenAt(signIn ? window.location.pathname : url.pathname);
  });

  root.querySelector("[data-chat-new]").addEventListener("click", () => {
    if (turn) return;
    conversationId = null;
    store.setConversation(null);
    ui.log.element.replaceChildren();
    welcome(ui, submitText);
    input.focus();
  });

  // Sending ---------------------------------------------------------------------------------------

  function submitText(text) {
    text = text.trim();
    if (!text || turn) return;
    const welcome = ui.log.element.querySelector(".chat-welcome");
    if (welcome) welcome.remove();
    socket.send({ type: "message", text: text, conversation_id: conversationId });
    ui.log.message("user", text);
    ui.log.toEnd();
    input.value = "";
    beginTurn();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitText(input.value);
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitText(input.value);
    }
  });

  // Add to cart from a product card, without leaving the page (the storefront's own code).
  root.addEventListener("submit", (event) => {
    const add = event.target;
    if (!add.matches("[data-chat-add]")) return;
    event.preventDefault();
    const button = add.querySelector("button");
    button.disabled = true;
    addToCart(add)
      .then((data) => {
        if (!data.ok) {
          button.disabled = false;
          cards.errorNote(ui, data.error);
          return;
        }
        const label = button.firstChild;
        label.textContent = T.added + " ✓";
        ui.log.note(data.message, "chat-added");
        window.setTimeout(() => {
          label.textContent = T.add;
          button.disabled = false;
        }, 2000);
      })
      .catch(() => {
        button.disabled = false;
        cards.errorNote(ui, { message: T.failed });
      });
  });

  if (store.reopen) setOpen(true, false);
}
