/* Small DOM helpers shared by the storefront and the chat. Text only ever goes in through textContent. */

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/* Fill "%(name)s" placeholders, as Django's gettext strings use them. */
export function format(template, values) {
  return String(template).replace(/%\((\w+)\)s/g, (match, name) => (name in values ? String(values[name]) : match));
}

/* Return the value if it is a path on this site ("/products/x/"), else null: no other hosts,
 * no javascript: or data: URLs, no protocol-relative "//host" or "/\host". */
export function sitePath(value) {
  if (typeof value !== "string" || !/^\/(?![/\\])[^\s\\]*$/.test(value)) return null;
  try {
    const url = new URL(value, window.location.origin);
    return url.origin === window.location.origin ? url.pathname + url.search + url.hash : null;
  } catch (error) {
    return null;
  }
}

export function link(path, text, className) {
  const anchor = el("a", className, text);
  anchor.href = path;
  return anchor;
}

/* The sign-in page, coming back to this page afterwards. */
export function signInPath(loginUrl) {
  return loginUrl + "?next=" + encodeURIComponent(window.location.pathname + window.location.search);
}
