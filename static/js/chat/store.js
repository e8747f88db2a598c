/* What the widget remembers: the open conversation's id (per account, across pages), and, for the next
 * page they go to by a link in the open panel (a product, signing in and back), to open it there again. */

const GUEST = "mcpshop.chat.guest";
const REOPEN = "mcpshop.chat.reopen";
const REOPEN_MS = 15 * 60 * 1000; // long enough to sign in on the way

function read(storage, key) {
  try {
    return JSON.parse(storage.getItem(key)) || {};
  } catch (error) {
    return {};
  }
}

function write(storage, key, value) {
  try {
    if (value === null) storage.removeItem(key);
    else storage.setItem(key, JSON.stringify(value));
  } catch (error) {
    /* private mode: the chat still works, for this page */
  }
}

export function chatStore(user) {
  const key = "mcpshop.chat." + user;
  let saved = read(window.localStorage, key);
  if (user !== "guest") {
    // A guest who just logged in: their conversation moved to the account with them.
    const asGuest = read(window.localStorage, GUEST);
    if (!saved.conversation && asGuest.conversation) {
      saved = { conversation: asGuest.conversation };
      write(window.localStorage, key, saved);
    }
    write(window.localStorage, GUEST, null);
  }
  const pending = read(window.sessionStorage, REOPEN);
  const reopen = pending.path === window.location.pathname && Date.now() - pending.at < REOPEN_MS;
  if (reopen || !(Date.now() - pending.at < REOPEN_MS)) write(window.sessionStorage, REOPEN, null);
  return {
    conversation: saved.conversation || null,
    reopen,
    setConversation(id) {
      saved = { conversation: id };
      write(window.localStorage, key, saved);
    },
    /* Open the panel when the shopper arrives at `path` (by a link they followed from the panel). */
    reopenAt(path) {
      write(window.sessionStorage, REOPEN, { path: path, at: Date.now() });
    },
  };
}
