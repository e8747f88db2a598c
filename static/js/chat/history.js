/* The conversation's history, shown again when the panel opens on another page: the same messages,
 * step notes and product cards as live (the server describes each step, `message.events`). */

export async function loadHistory(config, conversationId) {
  /* Return the conversation, null when it is gone, or undefined when it cannot be read now. */
  if (!conversationId) return undefined;
  try {
    const response = await fetch(config.history_url + encodeURIComponent(conversationId), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (response.status === 404) return null;
    return response.ok ? await response.json() : undefined;
  } catch (error) {
    return undefined; // the history stays on the server; the chat goes on
  }
}

/* Show a conversation's messages; `show(event)` draws an event as live. */
export function restore(ui, conversation, show) {
  ui.log.element.replaceChildren();
  conversation.messages.forEach((message) => {
    if (message.role === "user") ui.log.message("user", message.content);
    else if (message.role === "assistant" && message.content) ui.log.message("assistant", message.content);
    (message.events || []).forEach(show);
  });
  ui.log.toEnd();
}

/* The greeting of an empty conversation, with suggestions to send with one click (`pick(text)`). */
export function welcome(ui, pick) {
  const log = ui.log.element;
  if (log.children.length) return;
  const item = document.createElement("li");
  item.className = "chat-welcome";
  item.appendChild(document.createElement("p")).textContent = ui.T.welcome;
  const chips = item.appendChild(document.createElement("div"));
  chips.className = "chat-suggestions";
  ui.T.suggestions.forEach((suggestion) => {
    const chip = chips.appendChild(document.createElement("button"));
    chip.className = "chat-suggestion";
    chip.type = "button";
    chip.textContent = suggestion;
    chip.addEventListener("click", () => pick(suggestion));
  });
  log.appendChild(item);
}
