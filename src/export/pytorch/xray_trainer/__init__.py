"""The modules train.py runs (the PyTorch bundle of the page's "Export for PyTorch"), one job each:

network.py       the page's network (AppCnn) and its shape
ensemble.py      ensembles stacked into one model, taken apart, scored member by member
tfjs_format.py   the page's TensorFlow.js layers format: weight names and layouts, model.json's topology
model_zip.py     model.zip read into an AppCnn (checked) and written from one
images.py        image files as the page sees them, and a split's files as a Dataset
augmentation.py  the page's augmentation of a batch
loss.py          the loss, mixup, label smoothing and class weights
optimizer.py     RMSprop as tfjs runs it, and decoupled weight decay
schedule.py      the learning rate of each step
metrics.py       a split's figures and the decision threshold
ood.py           the out-of-distribution detectors (unlike the training data)
ood_check.py     a detector read from a model.zip, checked as the page checks it
settings.py      manifest.csv, settings.json with the command line's overrides, and their checks
distributed.py   one process or many (torchrun)
evaluation.py    a split's probabilities (and features), scored across the processes
training.py      the epochs, the run, its ensembles and early stopping
results.py       the end of a run: threshold, detector, figures, and the files written to --out
report.py        the figures printed, history.csv, test_predictions.csv
predict.py       --predict
"""
