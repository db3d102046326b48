"""The small web pages behind clients' and providers' links."""
