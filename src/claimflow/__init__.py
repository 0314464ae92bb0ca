"""claimflow: a medical claim from the patient's visit to the last cent collected."""

__version__ = "0.1.0"
