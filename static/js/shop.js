/* MCPshop storefront: small enhancements; every page works without this file (an ES module). */
import { addToCart } from "./lib/cart.js";
import { keepDrafts, refreshOnChange } from "./lib/draft.js";

document.documentElement.classList.add("js");
keepDrafts(document);
refreshOnChange(document);

function showMessage(text, level) {
  const region = document.querySelector("[data-messages]");
  if (!region) return;
  const message = document.createElement("p");
  message.className = "message message-" + (level || "success");
  message.textContent = text;
  region.replaceChildren(message);
}

// Add to cart without leaving the page; a failed request falls back to a normal form post.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.matches("[data-cart-add]") || !window.fetch) return;
  event.preventDefault();
  const button = form.querySelector("[type=submit]");
  if (button) button.setAttribute("aria-busy", "true");
  addToCart(form)
    .then((data) => (data.ok ? showMessage(data.message, "success") : showMessage(data.error.message, "error")))
    .catch(() => form.submit())
    .finally(() => {
      if (button) button.removeAttribute("aria-busy");
    });
});

// Ask before destructive actions; block a second click on forms that must post once.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  if (form.matches("[data-once]")) {
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
    form.querySelectorAll("[type=submit]").forEach(function (button) {
      button.setAttribute("aria-busy", "true");
    });
  }
});

// Coming back to a page from the browser's cache re-enables its forms.
window.addEventListener("pageshow", function (event) {
  if (!event.persisted) return;
  document.querySelectorAll("form[data-sent]").forEach(function (form) {
    delete form.dataset.sent;
  });
  document.querySelectorAll("[aria-busy]").forEach(function (button) {
    button.removeAttribute("aria-busy");
  });
});

// On small screens the search filters start folded, so the results come first.
if (window.matchMedia("(max-width: 900px)").matches) {
  document.querySelectorAll("details[data-collapse-on-small]").forEach(function (details) {
    details.open = false;
  });
}

// Sorting applies as soon as it changes.
document.querySelectorAll(".sort-form select").forEach(function (select) {
  select.addEventListener("change", function () {
    select.form.submit();
  });
});
