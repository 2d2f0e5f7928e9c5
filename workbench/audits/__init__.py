"""Safety audits in the workbench (issue 9). For now: the drift check between two files."""
