"""Email to customers: contacts' addresses, the follow-up a collector sends after calls that
reached nobody, statements on statement day, and the sender that delivers them after commit."""
