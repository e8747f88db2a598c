from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "mcpshop_site.jobs"
    label = "jobs"

    def ready(self):
        from mcpshop_site.jobs import retries

        retries.connect()
