/* MCPshop storefront: small enhancements; every page works without this file. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function showMessage(text, level) {
    var region = document.querySelector("[data-messages]");
    if (!region) return;
    var message = document.createElement("p");
    message.className = "message message-" + (level || "success");
    message.textContent = text;
    region.replaceChildren(message);
  }

  function setCartCount(count) {
    document.querySelectorAll("[data-cart-count]").forEach(function (badge) {
      badge.textContent = String(count);
      badge.classList.remove("bump");
      void badge.offsetWidth; // restart the animation
      badge.classList.add("bump");
    });
  }

  // Add to cart without leaving the page; a failed request falls back to a normal form post.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-cart-add]") || !window.fetch) return;
    event.preventDefault();
    var button = form.querySelector("[type=submit]");
    if (button) button.setAttribute("aria-busy", "true");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      keepalive: true, // finish the add even if the shopper leaves the page at once
    })
      .then(function (response) {
        return response.json().then(function (data) {
          if (data.ok) {
            setCartCount(data.cart_count);
            showMessage(data.message, "success");
          } else {
            showMessage((data.error && data.error.message) || response.statusText, "error");
          }
        });
      })
      .catch(function () {
        form.submit();
      })
      .finally(function () {
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
})();
