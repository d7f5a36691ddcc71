"""Dental AI Bridge: imaging export folders -> local AI findings -> signed PMS export."""

__version__ = "0.1.0"
