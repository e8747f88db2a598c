/* Keep what a shopper types in a form across page loads of the same tab (e.g. switching the language
   mid-checkout): forms marked data-keep-draft="name" are saved to sessionStorage as they change and
   filled back in on the next load. The name says whose draft it is (the checkout's holds the account), so
   the next account signed in on the same tab does not see what the last one typed. Hidden fields (the CSRF token, the idempotency key) are never kept;
   submitting the form forgets the draft (the server shows what was posted). */

function storageKey(form) {
  return "draft:" + form.dataset.keepDraft + ":" + window.location.pathname;
}

function fields(form) {
  return Array.from(form.elements).filter(
    (element) => element.name && element.type !== "hidden" && element.type !== "submit" && element.type !== "button",
  );
}

function save(form) {
  const values = {};
  for (const element of fields(form)) {
    if (element.type === "radio") {
      if (element.checked) values[element.name] = element.value;
    } else if (element.type === "checkbox") {
      values[element.name] = element.checked;
    } else {
      values[element.name] = element.value;
    }
  }
  try {
    window.sessionStorage.setItem(storageKey(form), JSON.stringify(values));
  } catch {
    /* storage full or disabled: the form still works, only the draft is not kept */
  }
}

/* Return whether a field that decides the totals (data-refresh) changed. */
function restore(form) {
  let changed = false;
  let values;
  try {
    values = JSON.parse(window.sessionStorage.getItem(storageKey(form)) || "null");
  } catch {
    values = null;
  }
  if (!values) return false;
  for (const element of fields(form)) {
    if (!(element.name in values)) continue;
    const value = values[element.name];
    const before = element.type === "radio" || element.type === "checkbox" ? element.checked : element.value;
    if (element.type === "radio") {
      element.checked = element.value === value;
    } else if (element.type === "checkbox") {
      element.checked = Boolean(value);
    } else if (element.tagName !== "SELECT" || Array.from(element.options).some((o) => o.value === value)) {
      element.value = value;
    }
    const after = element.type === "radio" || element.type === "checkbox" ? element.checked : element.value;
    if (before !== after && element.matches("[data-refresh]")) changed = true;
  }
  return changed;
}

export function keepDrafts(root) {
  for (const form of root.querySelectorAll("form[data-keep-draft]")) {
    const refresh = form.querySelector("[data-refresh-button]");
    // The draft chose another address or shipping than the page was priced for: price it again.
    if (restore(form) && refresh) form.requestSubmit(refresh);
    form.addEventListener("input", () => save(form));
    form.addEventListener("change", () => save(form));
    form.addEventListener("submit", () => {
      try {
        window.sessionStorage.removeItem(storageKey(form));
      } catch {
        /* nothing kept */
      }
    });
  }
}

/* A change of address or shipping choice shows the new totals at once (the page's own refresh button). */
export function refreshOnChange(root) {
  root.addEventListener("change", (event) => {
    const input = event.target;
    if (!input.matches("[data-refresh]")) return;
    const button = input.form && input.form.querySelector("[data-refresh-button]");
    if (button) input.form.requestSubmit(button);
  });
}
