"""One module per chat command (and the buttons that belong to it). Each exposes
``register(registry)``; commands.router lists the modules."""
