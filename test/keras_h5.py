"""HDF5 as Keras reads and writes it, for test/keras_forward.py: Keras 2's loader helpers (keras/saving/legacy/
hdf5_format.py, and Keras 3's legacy_h5_format.py and saving_lib), the file Keras' own saving code would write for the
same model, and the layout differences between two files."""
import json

import h5py
import numpy as np


def decode(value):
    return value.decode("utf-8") if hasattr(value, "decode") else value


def load_attributes_from_hdf5_group(group, name):
    if name in group.attrs:
        return [decode(n) for n in group.attrs[name]]
    data, chunk_id = [], 0
    while "%s%d" % (name, chunk_id) in group.attrs:
        data.extend(decode(n) for n in group.attrs["%s%d" % (name, chunk_id)])
        chunk_id += 1
    return data


def safe_get_h5_group(parent, name):
    """Keras 3's saving_lib.safe_get_h5_group: real groups only, no soft or external links."""
    current = parent
    for part in name.split("/"):
        if not part or part not in current:
            raise KeyError(name)
        link = current.get(part, getclass=True, getlink=True)
        if link in (h5py.ExternalLink, h5py.SoftLink):
            raise ValueError("link in H5 file: " + name)
        current = current[part]
        if not isinstance(current, h5py.Group):
            raise ValueError("expected a group at " + name)
    return current


def load_subset_weights_from_hdf5_group(group):
    names = load_attributes_from_hdf5_group(group, "weight_names")
    values = []
    for name in names:
        parent_name, leaf = name.rsplit("/", 1) if "/" in name else ("", name)
        parent = safe_get_h5_group(group, parent_name) if parent_name else group
        dataset = parent[leaf]
        if not isinstance(dataset, h5py.Dataset):
            raise ValueError("expected a dataset at " + name)
        values.append(np.asarray(dataset))
    return values


# --- The layout Keras' own saving code writes, for comparison ---


def keras_reference(path, root, model_layers, weights_file):
    """save_model_to_hdf5 / save_weights_to_hdf5_group / save_attributes_to_hdf5_group, through h5py, with this model."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = str(root["keras_version"])  # str
        f.attrs["backend"] = str(root["backend"])
        for key in ("model_config", "training_config"):
            if key in root:
                f.attrs[key] = json.dumps(json.loads(root[key])).encode("utf8")
        for key in root:
            if key not in ("keras_version", "backend", "model_config", "training_config"):
                f.attrs[key] = json.dumps(json.loads(root[key])).encode("utf8")
        g = f.create_group("model_weights")
        names = [l["config"]["name"] for l in model_layers]
        g.attrs["layer_names"] = [n.encode("utf8") for n in names]
        g.attrs["backend"] = str(root["backend"]).encode("utf8")
        g.attrs["keras_version"] = str(root["keras_version"]).encode("utf8")
        for name in sorted(names) + ["top_level_model_weights"]:
            lg = g.create_group(name)
            src = weights_file["model_weights"][name]
            wnames = load_attributes_from_hdf5_group(src, "weight_names")
            lg.attrs["weight_names"] = [n.encode("utf8") for n in wnames]
            for wname in wnames:
                val = np.asarray(src[wname])
                lg.create_dataset(wname, val.shape, dtype=val.dtype)[...] = val


def describe_attr(obj, name):
    aid = h5py.h5a.open(obj.id, name.encode())
    t, space = aid.get_type(), aid.get_space()
    d = {"class": type(t).__name__, "size": t.get_size(), "shape": space.shape}
    if isinstance(t, h5py.h5t.TypeStringID):
        d.update(vlen=t.is_variable_str(), cset=t.get_cset(), strpad=t.get_strpad())
    return d


def describe(f):
    out = {"superblock": f.id.get_create_plist().get_version()[0]}

    def visit(name, obj):
        entry = {"attrs": {a: describe_attr(obj, a) for a in obj.attrs}}
        if isinstance(obj, h5py.Dataset):
            plist = obj.id.get_create_plist()
            entry.update(dtype=obj.dtype.str, shape=obj.shape, layout=plist.get_layout(), filters=plist.get_nfilters())
        else:
            entry["members"] = sorted(obj.keys())
        out[name or "/"] = entry

    visit("", f)
    f.visititems(visit)
    return out


def differences(ours, theirs, where=""):
    if isinstance(ours, dict) and isinstance(theirs, dict):
        found = []
        for key in sorted(set(ours) | set(theirs), key=str):
            if key not in ours:
                found.append("%s/%s: only in Keras' file" % (where, key))
            elif key not in theirs:
                found.append("%s/%s: only in ours" % (where, key))
            else:
                found += differences(ours[key], theirs[key], "%s/%s" % (where, key))
        return found
    return [] if ours == theirs else ["%s: ours %r, Keras' %r" % (where, ours, theirs)]
