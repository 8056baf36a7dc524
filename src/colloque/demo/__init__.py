"""Realistic, deterministic demo data: ``generate_demo`` fills an empty database."""

from colloque.demo.generator import DemoLogin, DemoSummary, generate_demo

__all__ = ["DemoLogin", "DemoSummary", "generate_demo"]
