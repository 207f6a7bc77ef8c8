import os

from django.core.wsgi import get_wsgi_application

# A forgotten DJANGO_SETTINGS_MODULE must not serve with DEBUG on and a published key: production
# settings refuse to start without DJANGO_SECRET_KEY and DATABASE_URL.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
