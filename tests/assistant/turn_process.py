"""Run one assistant turn in a process of its own, on the database named by DATABASE_URL.

    python -m tests.assistant.turn_process <user id> <conversation id> <text>

Prints the turn's result as one JSON line. The model is the one OPENAI_API_KEY / OPENAI_BASE_URL
name (in the tests, a fake served by the test process). Used to race turns across processes.
"""

import asyncio
import json
import os
import sys


def main(user_id: str, conversation_id: str, text: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mcpshop_site.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from assistant.chat import collect_turn
    from cart.shoppers import Shopper

    shopper = Shopper(user=get_user_model().objects.get(pk=user_id))
    result = asyncio.run(collect_turn(shopper=shopper, text=text, conversation_id=conversation_id))
    print(json.dumps({"reply": result.reply, "error": result.error}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
