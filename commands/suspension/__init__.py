"""The suspension sequence: entry and exit (sequence), its steps (steps), the weekly report
(report) and the team file's [suspension] section (settings)."""
