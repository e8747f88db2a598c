/* The conversation log: messages (a tiny markdown subset: paragraphs, lists, **bold**, links to paths
 * of this site) and notes. Text from the model or the catalog only reaches the page through
 * textContent and nodes built here; never innerHTML. */

import { el, link, sitePath } from "../lib/dom.js";

const LIST_ITEM = /^\s*(?:[-*•]|(\d+)[.)、])\s+/;

function appendInline(parent, text) {
  const pattern = /\*\*([^*\n]+)\*\*|\[([^\]\n]+)\]\(([^)\s]+)\)/g;
  let last = 0;
  let match;
  while ((match = pattern.exec(text))) {
    if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
    if (match[1] !== undefined) {
      parent.appendChild(el("strong", null, match[1]));
    } else {
      const path = sitePath(match[3]);
      parent.appendChild(path ? link(path, match[2]) : document.createTextNode(match[2]));
    }
    last = pattern.lastIndex;
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
}

export function renderText(container, text) {
  container.replaceChildren();
  text.split(/\n{2,}/).forEach((block) => {
    let paragraph = null;
    let list = null;
    block.split("\n").forEach((line) => {
      const item = LIST_ITEM.exec(line);
      if (item) {
        const ordered = item[1] !== undefined;
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

/* Return the log's writer: append(node) keeps the view at the bottom when it was there. */
export function chatLog(log, T) {
  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  function append(node) {
    const follow = nearBottom();
    log.appendChild(node);
    if (follow) log.scrollTop = log.scrollHeight;
    return node;
  }

  function message(role, text) {
    const item = el("li", "chat-msg chat-msg-" + role);
    item.appendChild(el("span", "visually-hidden", (role === "user" ? T.you : T.assistant) + ": "));
    const body = item.appendChild(el("div", "chat-text"));
    if (role === "user") body.appendChild(el("p", null, text));
    else renderText(body, text);
    append(item);
    return body;
  }

  function note(text, className) {
    return append(el("li", "chat-note " + (className || ""), text));
  }

  function follow(render) {
    const keep = nearBottom();
    render();
    if (keep) log.scrollTop = log.scrollHeight;
  }

  return { element: log, append, message, note, follow, toEnd: () => (log.scrollTop = log.scrollHeight) };
}
