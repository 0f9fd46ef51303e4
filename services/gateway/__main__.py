from services.gateway.app import build_app
from services.gateway.settings import GatewaySettings
from shared.runner import serve

serve(GatewaySettings, build_app, uses_database=False)
