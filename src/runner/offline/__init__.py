"""A scripted, local Messages API server: the model behind the demo and the test suite."""

from runner.offline.demo import DEMO_PROMPT, demo_script, offline_environment
from runner.offline.script import Failure, Reply, Script, Text, ToolUse, Usage, bash, text
from runner.offline.server import OfflineMessagesServer, ServedCall

__all__ = [
    "DEMO_PROMPT",
    "Failure",
    "OfflineMessagesServer",
    "Reply",
    "Script",
    "ServedCall",
    "Text",
    "ToolUse",
    "Usage",
    "bash",
    "demo_script",
    "offline_environment",
    "text",
]
