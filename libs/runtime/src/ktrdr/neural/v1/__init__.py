# Generated package: see scripts/gen_protos.py
