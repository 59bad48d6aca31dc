"""What every chat adapter does the same way after a platform was acknowledged: answering a
request in one error path with its idempotency key (requests), and knowing who a platform user
is (identities). bot/slack and bot/teams draw and send; this package decides."""
