"""The offline engine: a deterministic, bilingual dialogue-state brain for when no model is configured.

understanding (utterance -> intent + slots: `understanding`, `intents`, `rules`), dialogue state
(`state`), planning (state + intent -> next tool call or reply: `planning`, `acting`, `referents`)
and phrases (`phrases`, through gettext); `brain` plugs them into the model loop of assistant.chat.
"""

from assistant.offline.brain import OfflineBrain
from assistant.offline.rules import cn_number
from assistant.offline.understanding import understand

__all__ = ["OfflineBrain", "cn_number", "understand"]
