"""Services: the rules of the product, used by views, jobs and the CLI."""
