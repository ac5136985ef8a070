"""What the demo portfolio is made of: names, regions, products, reasons and their shares.

Customers in Spain and Argentina buying banking and insurance products. Each ``*_P`` tuple holds
the probabilities for the tuple it is named after; ``CHANNEL_P`` follows the order of
``services.domain.CHANNELS``.
"""

from __future__ import annotations

FIRST_F = (
    "María",
    "Lucía",
    "Sofía",
    "Valentina",
    "Camila",
    "Martina",
    "Julia",
    "Paula",
    "Carmen",
    "Ana",
    "Laura",
    "Florencia",
    "Agustina",
    "Elena",
    "Marta",
    "Isabel",
    "Daniela",
    "Victoria",
)
FIRST_M = (
    "Juan",
    "Santiago",
    "Mateo",
    "Hugo",
    "Martín",
    "Lucas",
    "Diego",
    "Javier",
    "Pablo",
    "Carlos",
    "Alejandro",
    "Tomás",
    "Facundo",
    "Nicolás",
    "Sergio",
    "Manuel",
    "Andrés",
    "Joaquín",
)
SURNAMES = (
    "García",
    "Rodríguez",
    "González",
    "Fernández",
    "López",
    "Martínez",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Díaz",
    "Álvarez",
    "Romero",
    "Ruiz",
    "Torres",
    "Navarro",
    "Sosa",
    "Benítez",
    "Acosta",
    "Medina",
    "Herrera",
    "Castro",
    "Vázquez",
    "Molina",
    "Ortiz",
)
DOMAINS = ("gmail.com", "hotmail.com", "yahoo.es", "outlook.com", "correo.com.ar")
# (region, is Argentine, weight)
REGIONS = (
    ("Madrid", False, 14),
    ("Cataluña", False, 12),
    ("Andalucía", False, 12),
    ("Comunidad Valenciana", False, 8),
    ("Galicia", False, 4),
    ("País Vasco", False, 4),
    ("Castilla y León", False, 3),
    ("Buenos Aires", True, 16),
    ("CABA", True, 10),
    ("Córdoba", True, 6),
    ("Santa Fe", True, 5),
    ("Mendoza", True, 3),
    ("Tucumán", True, 3),
)
# (product, median price in EUR)
CATALOGUE = (
    ("cuenta premium", 12.0),
    ("seguros hogar", 38.0),
    ("seguro auto", 65.0),
    ("tarjeta de crédito", 25.0),
    ("fondo de inversión", 150.0),
    ("préstamo personal", 90.0),
    ("plan de pensiones", 120.0),
    ("asistencia en viaje", 18.0),
)
LEVELS = ("ABC1", "C2", "C3", "D1", "D2", "E")
LEVEL_P = (0.10, 0.18, 0.27, 0.24, 0.14, 0.07)
PLANS = ("básico", "estándar", "premium")
CHANNEL_P = (0.47, 0.38, 0.06, 0.05, 0.025, 0.015)
REASONS = (
    "PRICE",
    "SERVICE_QUALITY",
    "COMPETITOR",
    "PRODUCT_FIT",
    "MOVED",
    "NO_LONGER_NEEDED",
    "OTHER",
)
REASON_P = (0.30, 0.20, 0.18, 0.12, 0.06, 0.09, 0.05)
COMPLAINTS = (
    ("facturación", "cobro duplicado"),
    ("atención al cliente", "espera excesiva"),
    ("producto", "no funciona como se prometió"),
    ("facturación", "subida de precio"),
    ("atención al cliente", "no resolvieron la incidencia"),
)
CONTACT_REASONS = (
    "seguimiento",
    "consulta",
    "oferta de venta cruzada",
    "recuperación",
    "incidencia",
)
SIGNUP_CHANNELS = ("WEB", "APP", "OFICINA", "TELEFONO")
CONTACT_CHANNELS = ("EMAIL", "PHONE", "CHAT")
