from django_tasks import task


@task()
def build_site_task():
    """Build once for every change waiting; a burst of publishes makes one build."""
    from .builder import process_requests

    process_requests()
