"""Reading what people type: words and quoted names, amounts, dates, customers and notes.

Each reader answers with the value it read or a :class:`commands.refusal.Refusal` that says
what it understood, so a command can pass the refusal straight back to the user."""
