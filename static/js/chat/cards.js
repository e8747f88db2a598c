/* What the chat shows besides text: tool notes, product cards, the cart, orders and confirmations.
 * Every builder takes the widget (`ui`: config, strings T, the log) and returns or appends DOM nodes; prices
 * and dates are the server's words (`price`, `total`, `placed`), never formatted here. */

import { el, format, link, signInPath, sitePath } from "../lib/dom.js";

/* An error, with a way to sign in (and come back here) when signing in is what it takes. */
export function errorNote(ui, error, className) {
  const note = ui.log.note((error && error.message) || ui.T.failed, className || "chat-error");
  if (error && error.code === "login_required") {
    note.appendChild(document.createTextNode(" "));
    note.appendChild(link(signInPath(ui.config.login_url), ui.T.sign_in, "chat-sign-in"));
  }
  return note;
}

/* One tool call, as the server describes it (`label`); a call whose result is an error says it failed. */
export function toolNote(ui, event) {
  const error = event.error || (event.result && event.result.error) || null;
  if (!error) {
    const note = ui.log.note(event.label || event.name, "chat-tool");
    note.setAttribute("aria-hidden", "true"); // the answer says what happened; this is a visual trace
    return note;
  }
  const note = errorNote(ui, { code: error.code, message: event.label || ui.T.failed }, "chat-tool chat-tool-failed");
  note.dataset.code = error.code || "";
  return note;
}

function productCard(ui, item) {
  const { T, config } = ui;
  const name = (/^en/.test(config.language) && item.name_en) || item.name;
  const card = el("li", "chat-product");
  const url = sitePath(item.url);
  const media = el(url ? "a" : "span", "chat-product-media");
  if (url) {
    media.href = url;
    media.tabIndex = -1;
    media.setAttribute("aria-hidden", "true");
  }
  const image = sitePath(item.image_url);
  if (image) {
    const img = el("img");
    img.src = image;
    img.alt = "";
    img.loading = "lazy";
    img.width = 64;
    img.height = 64;
    media.appendChild(img);
  } else {
    media.appendChild(el("span", "chat-product-placeholder", Array.from(name || "?")[0]));
  }
  card.appendChild(media);
  const body = card.appendChild(el("div", "chat-product-body"));
  const title = body.appendChild(el("p", "chat-product-name"));
  if (url) title.appendChild(link(url, name));
  else title.textContent = name;
  body.appendChild(el("p", "chat-product-price", item.price));
  if (item.stock > 0) {
    const add = body.appendChild(el("form", "chat-product-add"));
    add.method = "post";
    add.action = config.cart_add_url;
    add.setAttribute("data-chat-add", "");
    [
      ["csrfmiddlewaretoken", config.csrf],
      ["sku", item.sku],
      ["quantity", "1"],
      ["next", window.location.pathname],
    ].forEach(([name, value]) => {
      const field = add.appendChild(el("input"));
      field.type = "hidden";
      field.name = name;
      field.value = value;
    });
    const button = add.appendChild(el("button", "button button-small", T.add));
    button.type = "submit";
    button.appendChild(el("span", "visually-hidden", ": " + name));
  } else {
    body.appendChild(el("p", "chat-product-stock", T.out_of_stock));
  }
  return card;
}

export function products(ui, items) {
  if (!items || !items.length) return;
  const list = el("ul", "chat-products");
  items.forEach((item) => list.appendChild(productCard(ui, item)));
  const holder = el("li", "chat-cards");
  holder.appendChild(list);
  ui.log.append(holder);
}

export function cartNote(ui, cart) {
  const { T } = ui;
  const note = el("li", "chat-note chat-cart");
  const text = cart.count ? format(T.cart, { count: cart.count, total: cart.total }) : T.cart_empty;
  note.appendChild(document.createTextNode(text));
  if (cart.count) {
    note.appendChild(document.createTextNode(" "));
    note.appendChild(link(ui.config.cart_url, T.view_cart));
  }
  ui.log.append(note);
}

export function orderCard(ui, order) {
  const { T } = ui;
  const card = el("li", "chat-order");
  card.appendChild(el("p", "chat-order-title", format(T.order, { number: order.number })));
  if (order.placed) card.appendChild(el("p", "chat-order-placed", order.placed)); // the server's words for when
  if (order.pay_by) card.appendChild(el("p", "chat-order-pay-by", format(T.pay_by, { when: order.pay_by })));
  const line = card.appendChild(el("p", "chat-order-line"));
  line.appendChild(el("span", "status status-" + String(order.status).toLowerCase(), order.status_display));
  line.appendChild(document.createTextNode(" " + order.total + " "));
  const url = ui.config.order_url.replace(/\/0\/$/, "/" + encodeURIComponent(order.number) + "/");
  line.appendChild(link(url, T.view_order));
  ui.log.append(card);
}

/* The summary of an order (or a cancellation) with Confirm and Cancel; `answer(type, token)` sends the
 * click and returns false when it could not. Return {settle(text)} for the outcome to land on. */
export function confirmationCard(ui, event, answer) {
  const { T, config } = ui;
  const summary = event.summary || {};
  const card = el("li", "chat-confirm");
  const heading = card.appendChild(
    el(
      "p",
      "chat-confirm-title",
      event.action === "cancel_order" ? format(T.confirm_cancel, { number: summary.number }) : T.confirm_order
    )
  );
  heading.id = "chat-confirm-" + Date.now();
  card.setAttribute("role", "group");
  card.setAttribute("aria-labelledby", heading.id);
  const lines = card.appendChild(el("ul", "chat-confirm-lines"));
  (summary.lines || []).forEach((line) => {
    const item = lines.appendChild(el("li"));
    const name = (/^en/.test(config.language) && line.name_en) || line.name;
    item.appendChild(el("span", null, name + " × " + line.quantity));
    item.appendChild(el("span", null, line.line_total));
  });
  // Subtotal, each discount, shipping and tax, as the server wrote them (labels translated, amounts formatted).
  if (summary.money_lines) {
    const money = card.appendChild(el("dl", "chat-confirm-money"));
    summary.money_lines.forEach((row) => {
      const pair = money.appendChild(el("div"));
      pair.appendChild(el("dt", null, row.label));
      pair.appendChild(el("dd", null, row.amount));
    });
  }
  const total = card.appendChild(el("p", "chat-confirm-total"));
  total.appendChild(el("span", null, T.total));
  total.appendChild(el("strong", null, summary.total));
  if (summary.address) {
    const address = summary.address;
    const where = [address.name, address.phone, address.address].filter(Boolean).join(", ");
    card.appendChild(el("p", "chat-confirm-address", T.deliver_to + ": " + where));
  }
  const buttons = card.appendChild(el("div", "chat-confirm-buttons"));
  const yes = buttons.appendChild(el("button", "button button-primary button-small", T.confirm));
  const no = buttons.appendChild(el("button", "button button-small", T.cancel));
  yes.type = no.type = "button";
  const state = card.appendChild(el("p", "chat-confirm-state"));
  state.setAttribute("role", "status");
  const outcome = {
    settle(text, failed) {
      yes.disabled = no.disabled = true;
      state.textContent = text;
      card.classList.add("chat-confirm-settled");
      card.classList.toggle("chat-confirm-failed", Boolean(failed));
    },
  };
  yes.addEventListener("click", () => {
    if (answer("confirm", event.token, outcome)) outcome.settle(T.confirming);
  });
  no.addEventListener("click", () => {
    if (answer("cancel", event.token, null)) outcome.settle(T.declined);
  });
  ui.log.append(card);
  return outcome;
}
