"""Preference prompts as chat messages, for TRL's *conversational* preference format.

TRL documents two shapes of a preference example: the plain one (``prompt``, ``chosen``,
``rejected`` as strings) and the conversational one, where each is a list of
``{"role", "content"}`` messages: the prompt the conversation so far, ``chosen`` and
``rejected`` one assistant message each. A prompt written as a transcript with
``Human:`` / ``Assistant:`` turns (Anthropic HH-RLHF's layout) becomes one message per turn; any
other prompt is one user message.
"""

from __future__ import annotations

import re

Message = dict[str, str]

_TURN = re.compile(r"(?:^|\n\n)(Human|Assistant):")
_ROLES = {"Human": "user", "Assistant": "assistant"}


def prompt_messages(prompt: str) -> list[Message]:
    """The prompt as messages; a trailing empty ``Assistant:`` turn (the answer to come) is
    dropped, and text before the first turn marker is a user message of its own."""
    parts = _TURN.split(prompt)
    messages: list[Message] = []
    lead = parts[0].strip()
    if len(parts) == 1:
        return [{"role": "user", "content": prompt}]
    if lead:
        messages.append({"role": "user", "content": lead})
    for speaker, text in zip(parts[1::2], parts[2::2], strict=True):
        content = text.strip()
        if content:
            messages.append({"role": _ROLES[speaker], "content": content})
    return messages or [{"role": "user", "content": prompt}]


def conversational_pair(prompt: str, chosen: str, rejected: str) -> dict[str, list[Message]]:
    """One TRL conversational preference example."""
    return {
        "prompt": prompt_messages(prompt),
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
    }
