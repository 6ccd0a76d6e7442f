"""The unit tree of a group: HQ → regional centres → project branches, each with departments."""
