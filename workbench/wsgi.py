import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
application = get_wsgi_application()

# A WSGI server runs no system checks: refuse to serve with a broken label config, featurizer
# or consensus method name instead of failing at first use.
from workbench.checks import raise_if_broken  # noqa: E402  (needs the apps loaded above)

raise_if_broken()
