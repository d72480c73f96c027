"""施工单: the life cycle, edits with task sync, the approval check, draft generation, design files."""
