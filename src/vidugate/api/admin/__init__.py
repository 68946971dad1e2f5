"""The admin API (/admin/v1): tenants, money, keys, prices and reports, for admin keys."""
