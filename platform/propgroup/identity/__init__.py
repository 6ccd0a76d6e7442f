"""People of a group and the roles they hold at units (用户与岗位)."""
