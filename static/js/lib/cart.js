/* The header's cart badge and adding to the cart without a page load: one implementation, used by the
 * storefront's "Add to cart" forms (shop.js) and the chat's product cards. */

import { format } from "./dom.js";

/* Show `count` in every cart badge; its spoken label comes from the data-label-* templates around it. */
export function showCartCount(count) {
  document.querySelectorAll("[data-cart-count]").forEach((badge) => {
    badge.textContent = String(count);
    const labels = badge.closest("[data-label-many]") || badge;
    const label = count === 1 ? labels.dataset.labelOne : labels.dataset.labelMany;
    if (label) badge.setAttribute("aria-label", format(label, { count: count }));
    badge.classList.remove("bump");
    void badge.offsetWidth; // restart the animation
    badge.classList.add("bump");
  });
}

/* Post an add-to-cart form as the page would, asking for JSON. Resolve with {ok, message} or
 * {ok: false, error: {code, message}}; the badge follows a success. Reject when the request fails. */
export async function addToCart(form) {
  const response = await fetch(form.action, {
    method: "POST",
    body: new FormData(form),
    headers: { Accept: "application/json" },
    credentials: "same-origin",
    keepalive: true, // finish the add even if the shopper leaves the page at once
  });
  const data = await response.json();
  if (data.ok) showCartCount(data.cart_count);
  else if (!data.error || !data.error.message) data.error = { code: "failed", message: response.statusText };
  return data;
}
