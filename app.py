def main(*args, **kwargs):
    raise NotImplementedError
