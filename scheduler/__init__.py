"""Scheduled jobs: the morning call lists, the statements and finals days, and the workflow
timers. ``scheduler.service.tick`` decides and runs; ``scheduler.due`` says when (pure);
``scheduler.runs`` makes each (job, date) happen once on a shared database; ``scheduler.jobs``
holds the jobs themselves, plain functions of (ctx, messenger)."""
