"""The demo portfolio behind ``arbot demo``: a deterministic, realistic book of business
(collectors, hundreds of customers, thousands of invoices of every kind and aging bucket,
promises kept and broken, disputes, a hold and a payment plan) to try the bot on.

Demo customers carry ERP ids ``DEMO-C10000``, ``DEMO-C10001``, ... (see :data:`DEMO_ERP_PREFIX`)."""

from demo.load import DEMO_ERP_PREFIX, DemoAlreadyLoaded, DemoError, load_demo
from demo.summary import BUCKETS, DemoSummary

__all__ = ["BUCKETS", "DEMO_ERP_PREFIX", "DemoAlreadyLoaded", "DemoError", "DemoSummary", "load_demo"]
