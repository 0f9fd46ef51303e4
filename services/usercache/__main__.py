from services.usercache.app import build_app
from services.usercache.settings import UsercacheSettings
from shared.runner import serve

serve(UsercacheSettings, build_app, uses_database=True)
