"""The version, in a module of its own so any leakhunt module can read it without importing the package's
__init__ (which imports the API lazily, and the API imports most of leakhunt)."""

__version__ = "0.1.0"
