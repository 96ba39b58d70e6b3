"""A tqdm bar as the (done, total) progress callback that services accept."""

from tqdm import tqdm


class ProgressBar:
    def __init__(self, stream, description: str):
        self.stream, self.description, self.bar = stream, description, None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.description, unit="img", dynamic_ncols=True, file=self.stream._out)
        self.bar.update(done - self.bar.n)
        if done >= total:
            self.bar.close()
