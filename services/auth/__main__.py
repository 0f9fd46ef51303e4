from services.auth.app import build_app
from services.auth.settings import AuthSettings
from shared.runner import serve

serve(AuthSettings, build_app, uses_database=True)
