"""What a session's user agent says about the device: browser, operating system and kind of device.

The parsing is ua-parser's (the uap-core rules, kept up to date upstream); this module only turns
its result into the few words the session list shows. Results are cached per user-agent string,
and parsing never runs on the request path: only when someone looks at their sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ua_parser import OS, Device, UserAgent, parse

# Operating systems whose devices are phones unless the parser says tablet.
MOBILE_OS = frozenset({"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "HarmonyOS", "Tizen"})
DESKTOP_OS = frozenset(
    {"Windows", "Mac OS X", "Linux", "Ubuntu", "Fedora", "Debian", "Chrome OS", "FreeBSD", "OpenBSD", "NetBSD"}
)
OS_NAMES = {"Mac OS X": "macOS", "Chrome OS": "ChromeOS"}
UNVERSIONED_OS = frozenset({"Mac OS X", "Linux", "Ubuntu", "Fedora", "Debian"})


@dataclass(frozen=True)
class DeviceInfo:
    """A user agent in words: "Firefox 125", "Windows 10" ("" if unknown), desktop | mobile | tablet | bot | other."""

    browser: str
    os: str
    kind: str

    @property
    def name(self) -> str:
        """ "Firefox 125 on Linux", "curl 8", "A browser on Linux" or "Unknown device"."""
        if self.browser and self.os:
            return f"{self.browser} on {self.os}"
        if self.os:
            return f"A browser on {self.os}"
        return self.browser or "Unknown device"

    @property
    def kind_label(self) -> str:
        """The kind of device as shown to people."""
        return {"bot": "Bot", "other": "Other device"}.get(self.kind, self.kind.capitalize())


@lru_cache(maxsize=1024)
def describe(user_agent: str | None) -> DeviceInfo:
    """Browser, OS and kind of device for a user-agent string (empty parts when it says nothing)."""
    if not user_agent:
        return DeviceInfo("", "", "other")
    result = parse(user_agent)
    agent, system, device = result.user_agent, result.os, result.device
    browser = f"{agent.family} {agent.major}".strip() if agent and agent.major else (agent.family if agent else "")
    os_name = ""
    if system:
        os_name = OS_NAMES.get(system.family, system.family)
        if system.major and system.family not in UNVERSIONED_OS:
            os_name = f"{os_name} {system.major}"
    return DeviceInfo(browser, os_name, _kind(agent, system, device))


def _kind(agent: UserAgent | None, system: OS | None, device: Device | None) -> str:
    if device and device.family == "Spider":
        return "bot"
    if device and (device.family == "iPad" or "Tablet" in f"{device.family} {device.brand} {device.model}"):
        return "tablet"
    if (system and system.family in MOBILE_OS) or (agent and "Mobile" in agent.family):
        return "mobile"
    if system and system.family in DESKTOP_OS:
        return "desktop"
    return "other"
