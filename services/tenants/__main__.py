from services.tenants.app import build_app
from services.tenants.settings import TenantsSettings
from shared.runner import serve

serve(TenantsSettings, build_app, uses_database=True)
