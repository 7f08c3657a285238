"""Foundations shared by every layer; imports nothing from sibling subpackages."""
