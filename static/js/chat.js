/* MCPshop chat widget: the shopping assistant on every page, over the /ws/chat/ WebSocket.
 *
 * Configuration comes from the widget's data-config attribute (no inline script). Text from the
 * model or the catalog only ever reaches the page through textContent and DOM nodes built here (a
 * tiny markdown subset: paragraphs, lists, **bold**, links to paths of this site); never innerHTML.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-chat]");
  if (!root || !window.WebSocket || !window.fetch || !window.JSON) return;

  var config;
  try {
    config = JSON.parse(root.getAttribute("data-config"));
  } catch (error) {
    return;
  }
  var T = config.strings;
  var panel = root.querySelector("[data-chat-panel]");
  var toggle = root.querySelector("[data-chat-toggle]");
  var log = root.querySelector("[data-chat-log]");
  var form = root.querySelector("[data-chat-form]");
  var input = root.querySelector("[data-chat-input]");
  var sendButton = root.querySelector("[data-chat-send]");
  var status = root.querySelector("[data-chat-status]");
  var phone = window.matchMedia("(max-width: 480px)");
  input.maxLength = config.max_chars;
  root.hidden = false;

  // Small helpers -------------------------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function format(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (match, name) {
      return name in values ? String(values[name]) : match;
    });
  }

  function money(cents) {
    cents = Math.round(Number(cents) || 0);
    var sign = cents < 0 ? "-" : "";
    cents = Math.abs(cents);
    var whole = String(Math.floor(cents / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var fraction = String(cents % 100).padStart(2, "0");
    return sign + config.currency + whole + "." + fraction;
  }

  /* Return the value if it is a path on this site ("/products/x/"), else null: no other hosts,
   * no javascript: or data: URLs, no protocol-relative "//host" or "/\host". */
  function sitePath(value) {
    if (typeof value !== "string" || !/^\/(?![/\\])[^\s\\]*$/.test(value)) return null;
    try {
      var url = new URL(value, window.location.origin);
      return url.origin === window.location.origin ? url.pathname + url.search + url.hash : null;
    } catch (error) {
      return null;
    }
  }

  function link(path, text, className) {
    var anchor = el("a", className, text);
    anchor.href = path;
    return anchor;
  }

  // The conversation kept across page loads: its id only (the messages come back from the server).

  var STORE = "mcpshop.chat." + config.user;
  var GUEST_STORE = "mcpshop.chat.guest";

  function readStore(key) {
    try {
      return JSON.parse(window.localStorage.getItem(key)) || {};
    } catch (error) {
      return {};
    }
  }

  function writeStore(patch) {
    var saved = readStore(STORE);
    Object.keys(patch).forEach(function (key) {
      saved[key] = patch[key];
    });
    try {
      window.localStorage.setItem(STORE, JSON.stringify(saved));
    } catch (error) {
      /* private mode: the chat still works, for this page */
    }
  }

  var stored = readStore(STORE);
  if (config.user !== "guest") {
    // A guest who just logged in: their conversation moved to the account with them.
    var asGuest = readStore(GUEST_STORE);
    if (!stored.conversation && asGuest.conversation) {
      stored.conversation = asGuest.conversation;
      stored.open = asGuest.open;
      writeStore(stored);
    }
    try {
      window.localStorage.removeItem(GUEST_STORE);
    } catch (error) {
      /* nothing to clean up */
    }
  }
  var conversationId = stored.conversation || null;

  // Rendering -----------------------------------------------------------------------------------

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  function append(node) {
    var follow = nearBottom();
    log.appendChild(node);
    if (follow) log.scrollTop = log.scrollHeight;
    return node;
  }

  function appendInline(parent, text) {
    var pattern = /\*\*([^*\n]+)\*\*|\[([^\]\n]+)\]\(([^)\s]+)\)/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(text))) {
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      if (match[1] !== undefined) {
        parent.appendChild(el("strong", null, match[1]));
      } else {
        var path = sitePath(match[3]);
        parent.appendChild(path ? link(path, match[2]) : document.createTextNode(match[2]));
      }
      last = pattern.lastIndex;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  var LIST_ITEM = /^\s*(?:[-*•]|(\d+)[.)、])\s+/;

  function renderText(container, text) {
    container.replaceChildren();
    text.split(/\n{2,}/).forEach(function (block) {
      var paragraph = null;
      var list = null;
      block.split("\n").forEach(function (line) {
        var item = LIST_ITEM.exec(line);
        if (item) {
          var ordered = item[1] !== undefined;
          if (!list || (list.tagName === "OL") !== ordered) {
            list = container.appendChild(el(ordered ? "ol" : "ul"));
            if (ordered && item[1] !== "1") list.start = Number(item[1]);
          }
          appendInline(list.appendChild(el("li")), line.slice(item[0].length));
          paragraph = null;
          return;
        }
        list = null;
        if (!line.trim()) return;
        if (paragraph) paragraph.appendChild(el("br"));
        else paragraph = container.appendChild(el("p"));
        appendInline(paragraph, line);
      });
    });
  }

  function addMessage(role, text) {
    var item = el("li", "chat-msg chat-msg-" + role);
    item.appendChild(el("span", "visually-hidden", role === "user" ? T.you + ": " : T.assistant + ": "));
    var body = item.appendChild(el("div", "chat-text"));
    if (role === "user") body.appendChild(el("p", null, text));
    else renderText(body, text);
    append(item);
    return body;
  }

  function addNote(text, className) {
    return append(el("li", "chat-note " + (className || ""), text));
  }

  function toolLabel(name) {
    return T.tools[name] || format(T.tool, { name: name });
  }

  function addTool(event) {
    var failed = event.result && event.result.error;
    var note = addNote(toolLabel(event.name), "chat-tool" + (failed ? " chat-tool-failed" : ""));
    note.setAttribute("aria-hidden", "true"); // the answer says what happened; this is a visual trace
  }

  function productCard(item) {
    var card = el("li", "chat-product");
    var url = sitePath(item.url);
    var media = el(url ? "a" : "span", "chat-product-media");
    if (url) {
      media.href = url;
      media.tabIndex = -1;
      media.setAttribute("aria-hidden", "true");
    }
    var image = sitePath(item.image_url);
    if (image) {
      var img = el("img");
      img.src = image;
      img.alt = "";
      img.loading = "lazy";
      img.width = 64;
      img.height = 64;
      media.appendChild(img);
    } else {
      media.appendChild(el("span", "chat-product-placeholder", Array.from(item.name || "?")[0]));
    }
    card.appendChild(media);
    var body = card.appendChild(el("div", "chat-product-body"));
    var title = body.appendChild(el("p", "chat-product-name"));
    if (url) title.appendChild(link(url, item.name));
    else title.textContent = item.name;
    body.appendChild(el("p", "chat-product-price", money(item.price_cents)));
    if (item.stock > 0) {
      var add = body.appendChild(el("form", "chat-product-add"));
      add.method = "post";
      add.action = config.cart_add_url;
      add.setAttribute("data-chat-add", "");
      [
        ["csrfmiddlewaretoken", config.csrf],
        ["sku", item.sku],
        ["quantity", "1"],
        ["next", window.location.pathname],
      ].forEach(function (pair) {
        var field = add.appendChild(el("input"));
        field.type = "hidden";
        field.name = pair[0];
        field.value = pair[1];
      });
      var button = add.appendChild(el("button", "button button-small", T.add));
      button.type = "submit";
      button.appendChild(el("span", "visually-hidden", ": " + item.name));
    } else {
      body.appendChild(el("p", "chat-product-stock", T.out_of_stock));
    }
    return card;
  }

  function addProducts(items) {
    if (!items || !items.length) return;
    var list = el("ul", "chat-products");
    items.forEach(function (item) {
      list.appendChild(productCard(item));
    });
    var holder = el("li", "chat-cards");
    holder.appendChild(list);
    append(holder);
  }

  function setCartCount(count) {
    document.querySelectorAll("[data-cart-count]").forEach(function (badge) {
      badge.textContent = String(count);
      badge.setAttribute("aria-label", count === 1 ? T.cart_badge_one : format(T.cart_badge_many, { count: count }));
      badge.classList.remove("bump");
      void badge.offsetWidth; // restart the animation
      badge.classList.add("bump");
    });
  }

  function addCart(cart) {
    setCartCount(cart.count);
    var note = el("li", "chat-note chat-cart");
    note.appendChild(
      document.createTextNode(
        cart.count ? format(T.cart, { count: cart.count, total: money(cart.total_cents) }) : T.cart_empty
      )
    );
    if (cart.count) {
      note.appendChild(document.createTextNode(" "));
      note.appendChild(link(config.cart_url, T.view_cart));
    }
    append(note);
  }

  function orderUrl(id) {
    return config.order_url.replace(/\/0\/$/, "/" + encodeURIComponent(id) + "/");
  }

  function addOrder(order) {
    var card = el("li", "chat-order");
    card.appendChild(el("p", "chat-order-title", format(T.order, { id: order.id })));
    var line = card.appendChild(el("p", "chat-order-line"));
    line.appendChild(el("span", "status status-" + String(order.status).toLowerCase(), order.status_display));
    line.appendChild(document.createTextNode(" " + money(order.total_cents) + " "));
    line.appendChild(link(orderUrl(order.id), T.view_order));
    append(card);
  }

  var awaitingConfirmation = null; // the card whose Confirm was pressed, until the order (or an error) comes

  function addConfirmation(event) {
    var summary = event.summary || {};
    var card = el("li", "chat-confirm");
    var heading = card.appendChild(
      el(
        "p",
        "chat-confirm-title",
        event.action === "cancel_order" ? format(T.confirm_cancel, { id: summary.order_id }) : T.confirm_order
      )
    );
    heading.id = "chat-confirm-" + Date.now();
    card.setAttribute("role", "group");
    card.setAttribute("aria-labelledby", heading.id);
    var lines = card.appendChild(el("ul", "chat-confirm-lines"));
    (summary.lines || []).forEach(function (line) {
      var item = lines.appendChild(el("li"));
      var total = line.line_total_cents !== undefined ? line.line_total_cents : line.unit_price_cents * line.quantity;
      var name = (/^en/.test(config.language) && line.name_en) || line.name;
      item.appendChild(el("span", null, name + " × " + line.quantity));
      item.appendChild(el("span", null, money(total)));
    });
    var total = card.appendChild(el("p", "chat-confirm-total"));
    total.appendChild(el("span", null, T.total));
    total.appendChild(el("strong", null, money(summary.total_cents)));
    if (summary.address) {
      var address = summary.address;
      card.appendChild(
        el(
          "p",
          "chat-confirm-address",
          T.deliver_to + ": " + [address.name, address.phone, address.address].filter(Boolean).join(", ")
        )
      );
    }
    var buttons = card.appendChild(el("div", "chat-confirm-buttons"));
    var yes = buttons.appendChild(el("button", "button button-primary button-small", T.confirm));
    var no = buttons.appendChild(el("button", "button button-small", T.cancel));
    yes.type = no.type = "button";
    var state = card.appendChild(el("p", "chat-confirm-state"));
    state.setAttribute("role", "status");
    var token = event.token; // stays here: only this shopper's click sends it back

    function settle(text) {
      yes.disabled = no.disabled = true;
      state.textContent = text;
      card.classList.add("chat-confirm-settled");
    }
    yes.addEventListener("click", function () {
      if (!send({ type: "confirm", token: token })) return;
      settle(T.confirming);
      awaitingConfirmation = { settle: settle };
      input.focus();
    });
    no.addEventListener("click", function () {
      if (!send({ type: "cancel", token: token })) return;
      settle(T.declined);
      input.focus();
    });
    append(card);
  }

  function addError(event) {
    var note = addNote(event.message || T.failed, "chat-error");
    note.setAttribute("role", "alert");
    if (event.code === "login_required" && config.user === "guest") {
      note.appendChild(document.createTextNode(" "));
      var next = window.location.pathname + window.location.search;
      note.appendChild(link(config.login_url + "?next=" + encodeURIComponent(next), T.sign_in));
    }
  }

  function showWelcome() {
    if (log.children.length) return;
    var welcome = el("li", "chat-welcome");
    welcome.appendChild(el("p", null, T.welcome));
    var chips = welcome.appendChild(el("div", "chat-suggestions"));
    T.suggestions.forEach(function (text) {
      var chip = chips.appendChild(el("button", "chat-suggestion", text));
      chip.type = "button";
      chip.addEventListener("click", function () {
        submitText(text);
      });
    });
    log.appendChild(welcome);
  }

  // One turn at a time: the answer streams into a bubble, other events go between bubbles.

  var turn = null;
  var renderQueued = false;

  function setStatus(text) {
    status.textContent = text || "";
  }

  function beginTurn() {
    turn = { body: null, text: "" };
    sendButton.disabled = true;
    root.classList.add("chat-busy");
    setStatus(T.thinking);
  }

  function endTurn(interrupted) {
    if (!turn) return;
    if (turn.body) {
      flushText();
      turn.body.parentNode.removeAttribute("aria-busy");
    }
    if (interrupted) addNote(T.interrupted, "chat-error");
    turn = null;
    sendButton.disabled = false;
    root.classList.remove("chat-busy");
    setStatus("");
  }

  function flushText() {
    renderQueued = false;
    if (!turn || !turn.body) return;
    var follow = nearBottom();
    renderText(turn.body, turn.text);
    if (follow) log.scrollTop = log.scrollHeight;
  }

  function closeBubble() {
    if (turn && turn.body) {
      flushText();
      turn.body.parentNode.removeAttribute("aria-busy");
      turn.body = null;
      turn.text = "";
    }
  }

  function handle(event) {
    switch (event.type) {
      case "conversation":
        conversationId = event.id;
        writeStore({ conversation: conversationId });
        return;
      case "delta":
        if (!turn) beginTurn();
        if (!turn.body) {
          turn.body = addMessage("assistant", "");
          turn.body.parentNode.setAttribute("aria-busy", "true");
        }
        turn.text += event.text;
        if (!renderQueued) {
          renderQueued = true;
          window.requestAnimationFrame(flushText);
        }
        return;
      case "tool":
        closeBubble();
        addTool(event);
        return;
      case "products":
        closeBubble();
        addProducts(event.items);
        return;
      case "cart":
        closeBubble();
        addCart(event.cart);
        return;
      case "confirm_required":
        closeBubble();
        addConfirmation(event);
        return;
      case "order":
        closeBubble();
        if (awaitingConfirmation) awaitingConfirmation.settle(T.confirmed);
        awaitingConfirmation = null;
        addOrder(event.order);
        return;
      case "error":
        closeBubble();
        if (awaitingConfirmation) awaitingConfirmation.settle(event.message || T.failed);
        awaitingConfirmation = null;
        addError(event);
        return;
      case "done":
        endTurn(false);
        return;
    }
  }

  // The socket: opened when the panel first opens, reopened with backoff when it drops ----------

  var socket = null;
  var attempts = 0;
  var retry = null;
  var outbox = [];
  var started = false;

  function socketUrl() {
    return (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + config.socket;
  }

  function connect() {
    retry = null;
    if (socket) return;
    var current = (socket = new WebSocket(socketUrl()));
    current.addEventListener("open", function () {
      attempts = 0;
      if (!turn) setStatus("");
      while (outbox.length && current.readyState === WebSocket.OPEN) current.send(outbox.shift());
    });
    current.addEventListener("message", function (message) {
      var event;
      try {
        event = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (event && typeof event.type === "string") handle(event);
    });
    current.addEventListener("close", function () {
      if (socket !== current) return;
      socket = null;
      if (turn) endTurn(true);
      if (awaitingConfirmation) awaitingConfirmation.settle(T.failed);
      awaitingConfirmation = null;
      reconnectLater();
    });
  }

  function reconnectLater() {
    if (retry) return;
    var delay = Math.min(30000, 500 * Math.pow(2, attempts)) * (0.75 + Math.random() * 0.5);
    attempts = Math.min(attempts + 1, 10);
    setStatus(T.reconnecting);
    retry = window.setTimeout(connect, delay);
  }

  window.addEventListener("online", function () {
    if (retry) {
      window.clearTimeout(retry);
      connect();
    }
  });

  /* Send a frame now, or as soon as the socket is open; false if the socket is down for now. */
  function send(frame) {
    var data = JSON.stringify(frame);
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(data);
      return true;
    }
    if (frame.type !== "message") {
      setStatus(T.reconnecting);
      return false;
    }
    outbox = [data];
    setStatus(T.connecting);
    if (!socket && retry) {
      window.clearTimeout(retry);
      connect();
    }
    return true;
  }

  /* Return the product cards a stored search_products / get_product result showed (without pictures). */
  function storedProducts(message) {
    if (message.tool_name !== "search_products" && message.tool_name !== "get_product") return [];
    var result;
    try {
      result = JSON.parse(message.content);
    } catch (error) {
      return [];
    }
    var rows = result.products || (result.product ? [result.product] : []);
    var english = /^en/.test(config.language);
    return rows.map(function (row) {
      return {
        sku: row.sku,
        name: (english && row.name_en) || row.name,
        price_cents: row.price_cents,
        stock: row.stock,
        image_url: "",
        url: config.product_url.replace(/\/0\/$/, "/" + encodeURIComponent(row.sku) + "/"),
      };
    });
  }

  function loadHistory() {
    if (!conversationId) return Promise.resolve();
    return fetch(config.history_url + encodeURIComponent(conversationId), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (response.status === 404) {
          conversationId = null;
          writeStore({ conversation: null });
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data) return;
        log.replaceChildren();
        data.messages.forEach(function (message) {
          if (message.role === "user") addMessage("user", message.content);
          else if (message.role === "assistant") {
            if (message.content) addMessage("assistant", message.content);
            (message.tool_calls || []).forEach(function (call) {
              addNote(toolLabel(call.name), "chat-tool").setAttribute("aria-hidden", "true");
            });
          } else if (message.role === "tool") {
            addProducts(storedProducts(message));
          }
        });
        log.scrollTop = log.scrollHeight;
      })
      .catch(function () {
        /* the history stays on the server; the chat goes on */
      });
  }

  function start() {
    if (started) return;
    started = true;
    var ready = Promise.resolve();
    if (!config.guest_ready) {
      // A guest's chat uses the cart token of their session: make sure they have one (and its cookie).
      ready = fetch(config.session_url, {
        method: "POST",
        headers: { "X-CSRFToken": config.csrf, Accept: "application/json" },
        credentials: "same-origin",
      }).catch(function () {});
    }
    ready
      .then(loadHistory)
      .then(function () {
        showWelcome();
        connect();
      });
  }

  // Opening and closing -------------------------------------------------------------------------

  function setOpen(open, moveFocus) {
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    root.classList.toggle("chat-open", open);
    document.documentElement.classList.toggle("chat-fullscreen", open && phone.matches);
    writeStore({ open: open });
    if (open) {
      start();
      if (moveFocus) input.focus();
    } else if (moveFocus) {
      toggle.focus();
    }
  }

  toggle.addEventListener("click", function () {
    setOpen(panel.hidden, true);
  });
  root.querySelector("[data-chat-close]").addEventListener("click", function () {
    setOpen(false, true);
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      setOpen(false, true);
    }
  });
  phone.addEventListener("change", function () {
    document.documentElement.classList.toggle("chat-fullscreen", !panel.hidden && phone.matches);
  });

  root.querySelector("[data-chat-new]").addEventListener("click", function () {
    if (turn) return;
    conversationId = null;
    writeStore({ conversation: null });
    log.replaceChildren();
    showWelcome();
    input.focus();
  });

  // Sending ---------------------------------------------------------------------------------------

  function submitText(text) {
    text = text.trim();
    if (!text || turn) return;
    var welcome = log.querySelector(".chat-welcome");
    if (welcome) welcome.remove();
    send({ type: "message", text: text, conversation_id: conversationId });
    addMessage("user", text);
    log.scrollTop = log.scrollHeight;
    input.value = "";
    beginTurn();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submitText(input.value);
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitText(input.value);
    }
  });

  // Add to cart from a product card, without leaving the page.
  root.addEventListener("submit", function (event) {
    var add = event.target;
    if (!add.matches("[data-chat-add]")) return;
    event.preventDefault();
    var button = add.querySelector("button");
    button.disabled = true;
    fetch(add.action, {
      method: "POST",
      body: new FormData(add),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json();
      })
      .then(function (data) {
        if (data.ok) {
          setCartCount(data.cart_count);
          var label = button.firstChild;
          label.textContent = T.added + " ✓";
          addNote(data.message, "chat-added");
          window.setTimeout(function () {
            label.textContent = T.add;
            button.disabled = false;
          }, 2000);
        } else {
          button.disabled = false;
          addError({ message: data.error && data.error.message });
        }
      })
      .catch(function () {
        button.disabled = false;
        addError({ message: T.failed });
      });
  });

  if (stored.open) setOpen(true, false);
})();
