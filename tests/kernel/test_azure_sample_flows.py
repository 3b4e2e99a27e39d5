"""The code of Azure's public v1 how-to notebooks, cell by cell, in a real kernel against a live service: the
train-on-local flow (a user-managed, then a system-managed environment, metrics, register_model), and the
compute-cluster preamble of the image-classification tutorial. Only the data is local (scikit-learn's bundled
diabetes set), as a held-out run of those notebooks would have it."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from tests.kernel.test_examples import execute, outputs_of

TRAIN_PY = '''
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split
from azureml.core.run import Run
import os
import numpy as np
import mylib
# sklearn.externals.joblib is removed in 0.23
try:
    from sklearn.externals import joblib
except ImportError:
    import joblib

os.makedirs('./outputs', exist_ok=True)

X, y = load_diabetes(return_X_y=True)

run = Run.get_context()

X_train, X_test, y_train, y_test = train_test_split(X, y,
                                                    test_size=0.2,
                                                    random_state=0)
data = {"train": {"X": X_train, "y": y_train},
        "test": {"X": X_test, "y": y_test}}

# list of numbers from 0.0 to 1.0 with a 0.05 interval
alphas = mylib.get_alphas()

for alpha in alphas:
    # Use Ridge algorithm to create a regression model
    reg = Ridge(alpha=alpha)
    reg.fit(data["train"]["X"], data["train"]["y"])

    preds = reg.predict(data["test"]["X"])
    mse = mean_squared_error(preds, data["test"]["y"])
    run.log('alpha', alpha)
    run.log('mse', mse)

    model_file_name = 'ridge_{0:.2f}.pkl'.format(alpha)
    # save model in the outputs folder so it automatically get uploaded
    with open(model_file_name, "wb") as file:
        joblib.dump(value=reg, filename=os.path.join('./outputs/',
                                                     model_file_name))

    print('alpha is {0:.2f}, and mse is {1:0.2f}'.format(alpha, mse))
'''

MYLIB_PY = '''
import numpy as np


def get_alphas():
    # list of numbers from 0.0 to 1.0 with a 0.05 interval
    return np.arange(0.0, 1.0, 0.05)
'''

TRAIN_ON_LOCAL = [
    """
import azureml.core
from azureml.core import Workspace

# Check core SDK version number
print("SDK version:", azureml.core.VERSION)
""",
    """
ws = Workspace.from_config()
print(ws.name, ws.resource_group, ws.location, ws.subscription_id, sep='\\n')
""",
    """
experiment_name = 'train-on-local'
from azureml.core import Experiment
exp = Experiment(workspace=ws, name=experiment_name)
""",
    """
with open('./train.py', 'r') as f:
    print(f.read())
""",
    """
from azureml.core import Environment

myenv = Environment("user-managed-env")

myenv.python.user_managed_dependencies = True

# You can choose a specific Python environment by pointing to a Python path
#myenv.python.interpreter_path = '/home/johndoe/miniconda3/envs/myenv/bin/python'
""",
    """
from azureml.core import ScriptRunConfig

# Set compute target to the one created in previous step
src = ScriptRunConfig(source_directory='./', script='train.py')
src.run_config.environment = myenv
run = exp.submit(src)
""",
    """
from azureml.widgets import RunDetails
RunDetails(run).show()
""",
    """
# Shows output of the run on stdout.
run.wait_for_completion(show_output=True)
""",
    """
run.get_metrics()
""",
    """
from azureml.core.conda_dependencies import CondaDependencies

systemenv = Environment("system-managed-env")
systemenv.python.user_managed_dependencies = False

# Add the scikit-learn package to the conda dependencies, and numpy through pip
systemenv.python.conda_dependencies = CondaDependencies.create(conda_packages=['scikit-learn', 'joblib'],
                                                               pip_packages=['azureml-defaults'])
""",
    """
src.run_config.environment = systemenv
run = exp.submit(src)
run.wait_for_completion(show_output=True)
""",
    """
run.get_metrics()
""",
    """
import numpy as np
metrics = run.get_metrics()
print('When alpha is {1:0.2f}, we have min MSE {0:0.2f}.'.format(
    min(metrics['mse']),
    metrics['alpha'][np.argmin(metrics['mse'])]
))
""",
    """
# supply a model name, and the full path to the serialized model file.
model = run.register_model(model_name='best_ridge_model', model_path='./outputs/ridge_0.40.pkl')
print(model.name, model.version, model.url)
""",
    """
print("Registered model:\\n --> Name: {}\\n --> Version: {}\\n --> URL: {}".format(model.name, model.version,
                                                                                  model.url))
""",
]

# The compute-cluster preamble of the image-classification tutorial, part 1, unchanged.
CLUSTER_PREAMBLE = [
    """
from azureml.core import Workspace
ws = Workspace.from_config()
""",
    """
from azureml.core.compute import AmlCompute
from azureml.core.compute import ComputeTarget
import os

# choose a name for your cluster
compute_name = os.environ.get("AML_COMPUTE_CLUSTER_NAME", "cpu-cluster")
compute_min_nodes = os.environ.get("AML_COMPUTE_CLUSTER_MIN_NODES", 0)
compute_max_nodes = os.environ.get("AML_COMPUTE_CLUSTER_MAX_NODES", 4)

# This example uses CPU VM. For using GPU VM, set SKU to STANDARD_NC6
vm_size = os.environ.get("AML_COMPUTE_CLUSTER_SKU", "STANDARD_D2_V2")


if compute_name in ws.compute_targets:
    compute_target = ws.compute_targets[compute_name]
    if compute_target and type(compute_target) is AmlCompute:
        print('found compute target. just use it. ' + compute_name)
else:
    print('creating a new compute target...')
    provisioning_config = AmlCompute.provisioning_configuration(vm_size=vm_size,
                                                                min_nodes=compute_min_nodes,
                                                                max_nodes=compute_max_nodes)

    # create the cluster
    compute_target = ComputeTarget.create(
        ws, compute_name, provisioning_config)

    # can poll for a minimum number of nodes and for a specific timeout.
    # if no min node count is provided it will use the scale settings for the cluster
    compute_target.wait_for_completion(
        show_output=True, min_node_count=None, timeout_in_minutes=20)

    # For a more detailed view of current AmlCompute status, use get_status()
    print(compute_target.get_status().serialize())
""",
]


# The HyperDrive how-to for scikit-learn (train-hyperparameter-tune-deploy-with-sklearn), its script and cells.
TRAIN_IRIS_PY = '''
import argparse
import os

# importing necessary libraries
import numpy as np

from sklearn import datasets
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split

import joblib

from azureml.core.run import Run
run = Run.get_context()


def main():
    parser = argparse.ArgumentParser()

    parser.add_argument('--kernel', type=str, default='linear',
                        help='Kernel type to be used in the algorithm')
    parser.add_argument('--penalty', type=float, default=1.0,
                        help='Penalty parameter of the error term')

    args = parser.parse_args()
    run.log('Kernel type', str(args.kernel))
    run.log('Penalty', float(args.penalty))

    # loading the iris dataset
    iris = datasets.load_iris()

    # X -> features, y -> label
    X = iris.data
    y = iris.target

    # dividing X, y into train and test data
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

    # training a linear SVM classifier
    from sklearn.svm import SVC
    svm_model_linear = SVC(kernel=args.kernel, C=args.penalty).fit(X_train, y_train)
    svm_predictions = svm_model_linear.predict(X_test)

    # model accuracy for X_test
    accuracy = svm_model_linear.score(X_test, y_test)
    print('Accuracy of SVM classifier on test set: {:.2f}'.format(accuracy))
    run.log('Accuracy', float(accuracy))
    # creating a confusion matrix
    cm = confusion_matrix(y_test, svm_predictions)
    print(cm)

    os.makedirs('outputs', exist_ok=True)
    # files saved in the "outputs" folder are automatically uploaded into run history
    joblib.dump(svm_model_linear, 'outputs/model.joblib')


if __name__ == '__main__':
    main()
'''

CONDA_YML = '''
name: sklearn-training-env
dependencies:
- python
- scikit-learn
- numpy
- joblib
- pip:
  - azureml-defaults
'''

HYPERDRIVE_SKLEARN = [
    """
import azureml.core
from azureml.core import Workspace, Experiment, Environment, ScriptRunConfig
from azureml.widgets import RunDetails

ws = Workspace.from_config()
experiment = Experiment(workspace=ws, name='train_iris')
project_folder = './sklearn-iris'
sklearn_env = Environment.from_conda_specification(name='sklearn-env', file_path='conda_dependencies.yml')
""",
    """
src = ScriptRunConfig(source_directory=project_folder,
                      script='train_iris.py',
                      arguments=['--kernel', 'linear', '--penalty', 1.0],
                      environment=sklearn_env)

run = experiment.submit(src)
RunDetails(run).show()
run.wait_for_completion(show_output=True)
""",
    """
from azureml.train.hyperdrive.runconfig import HyperDriveConfig
from azureml.train.hyperdrive.sampling import RandomParameterSampling
from azureml.train.hyperdrive.run import PrimaryMetricGoal
from azureml.train.hyperdrive.parameter_expressions import choice

param_sampling = RandomParameterSampling( {
    "--kernel": choice('linear', 'rbf', 'poly', 'sigmoid'),
    "--penalty": choice(0.5, 1, 1.5)
    }
)

hyperdrive_config = HyperDriveConfig(run_config=src,
                                     hyperparameter_sampling=param_sampling,
                                     primary_metric_name='Accuracy',
                                     primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                                     max_total_runs=12,
                                     max_concurrent_runs=4)
hyperdrive_run = experiment.submit(hyperdrive_config)
RunDetails(hyperdrive_run).show()
hyperdrive_run.wait_for_completion(show_output=True)
assert(hyperdrive_run.get_status() == "Completed")
""",
    """
best_run = hyperdrive_run.get_best_run_by_primary_metric()
print(best_run.get_details()['runDefinition']['arguments'])
print(best_run.get_file_names())
model = best_run.register_model(model_name='sklearn-iris', model_path='outputs/model.joblib')
print("best:", best_run.get_metrics()['Accuracy'], model.name, model.version)
""",
]


# The datasets tutorial (work-with-data/datasets-tutorial/train-with-datasets), its cells and scripts, with the
# data made locally: iris as a CSV (the tutorial downloads it) and the diabetes set as files.
TRAIN_IRIS_DATASET_PY = '''
import os

from azureml.core import Dataset, Run
import joblib
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

run = Run.get_context()
# get the input dataset by name
dataset = run.input_datasets['iris']

df = dataset.to_pandas_dataframe()

x_col = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']
y_col = ['species']
x_df = df.loc[:, x_col]
y_df = df.loc[:, y_col]

#dividing X,y into train and test data
x_train, x_test, y_train, y_test = train_test_split(x_df, y_df, test_size=0.2, random_state=223)

data = {'train': {'X': x_train, 'y': y_train},

        'test': {'X': x_test, 'y': y_test}}

clf = DecisionTreeClassifier().fit(data['train']['X'], data['train']['y'])
model_file_name = 'decision_tree.pkl'

print('Accuracy of Decision Tree classifier on training set: {:.2f}'.format(clf.score(x_train, y_train)))
print('Accuracy of Decision Tree classifier on test set: {:.2f}'.format(clf.score(x_test, y_test)))

os.makedirs('./outputs', exist_ok=True)
with open(model_file_name, 'wb') as file:
    joblib.dump(value=clf, filename='outputs/' + model_file_name)
'''

TRAIN_DIABETES_PY = '''
import argparse
import glob
import os

import numpy as np
from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument('--data-folder', type=str, dest='data_folder', help='data folder mounting point')
args = parser.parse_args()

data_folder = args.data_folder
print('Data folder:', data_folder)
files = sorted(glob.glob(os.path.join(data_folder, '**/*.npy'), recursive=True))
print('files:', [os.path.relpath(f, data_folder) for f in files])
X = np.load(os.path.join(data_folder, 'features.npy'))
y = np.load(os.path.join(data_folder, 'labels.npy'))
run = Run.get_context()
run.log('rows', int(X.shape[0]))
print('loaded', X.shape, y.shape)
'''

DATASETS_TUTORIAL = [
    """
import azureml.core
from azureml.core import Workspace, Experiment, Dataset

ws = Workspace.from_config()
exp = Experiment(workspace=ws, name='train-with-datasets')
""",
    """
datastore = ws.get_default_datastore()
datastore.upload_files(files = ['./train-dataset/iris.csv'],
                       target_path = 'train-dataset/tabular/',
                       overwrite = True,
                       show_progress = True)

dataset = Dataset.Tabular.from_delimited_files(path = [(datastore, 'train-dataset/tabular/iris.csv')])

# preview the first 3 rows of the dataset
dataset.take(3).to_pandas_dataframe()
""",
    """
import os
script_folder = os.path.join(os.getcwd(), 'train-dataset')
from azureml.core import Environment
from azureml.core.conda_dependencies import CondaDependencies

conda_env = Environment('conda-env')
conda_env.python.conda_dependencies = CondaDependencies.create(pip_packages=['azureml-sdk',
                                                                            'azureml-dataset-runtime[pandas,fuse]',
                                                                            'scikit-learn','pandas','joblib'])
""",
    """
from azureml.core import ScriptRunConfig

src = ScriptRunConfig(source_directory=script_folder,
                      script='train_iris.py',
                      arguments=[dataset.as_named_input('iris')],
                      environment=conda_env)

# Submit the run configuration for your training run
run = exp.submit(src)
run.wait_for_completion(show_output=True)
""",
    """
datastore.upload(src_dir='diabetes', target_path='diabetes', overwrite=True, show_progress=True)
dataset = Dataset.File.from_files(path = [(datastore, 'diabetes/')])
src = ScriptRunConfig(source_directory=script_folder,
                      script='train_diabetes.py',
                      # to mount the dataset on the remote compute and pass the mounted path as an argument
                      arguments =['--data-folder', dataset.as_mount()],
                      environment=conda_env)

run = exp.submit(src)
run.wait_for_completion(show_output=True)
""",
    """
dataset = dataset.register(workspace = ws,
                           name = 'diabetes dataset',
                           description='training dataset',
                           create_new_version=True)
print(dataset.name, dataset.version, Dataset.get_by_name(ws, 'diabetes dataset').version)
""",
]


def _notebook(folder: Path, cells: list[str]) -> Path:
    path = folder / "sample.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(c.strip()) for c in cells]), path)
    return path


def _project(tmp_path: Path, workspace_name: str) -> Path:
    folder = tmp_path / "train-on-local"
    folder.mkdir()
    (folder / "train.py").write_text(TRAIN_PY.lstrip())
    (folder / "mylib.py").write_text(MYLIB_PY.lstrip())
    (folder / "config.json").write_text(
        '{"subscription_id": "00000000-1111-2222-3333-444444444444", "resource_group": "aml-samples", '
        f'"workspace_name": "{workspace_name}"}}')
    return folder


def test_train_on_local(kernel_env, service, tmp_path):
    service.workspace("samples-local")
    folder = _project(tmp_path, "samples-local")
    nb = execute(_notebook(folder, TRAIN_ON_LOCAL))  # raises CellExecutionError on any cell error
    text = outputs_of(nb)
    assert "SDK version: 1.61.0+jupyter.aml." in text
    assert "samples-local\naml-samples" in text  # name, then the resource group from Azure's config.json
    assert text.count("alpha is 0.95, and mse is") == 2  # both runs printed their whole loop (show_output)
    assert "When alpha is 0.40, we have min MSE 3" in text  # the sample registers ridge_0.40.pkl next
    assert "--> Name: best_ridge_model" in text and "--> Version: 1" in text
    metrics = nb.cells[8].outputs[0]["data"]["text/plain"]
    assert "{'alpha': [0.0,\n  0.05," in metrics and "'mse': [" in metrics  # v1's lists, pretty-printed


def test_the_cluster_preamble_of_the_image_classification_tutorial(kernel_env, service, tmp_path):
    service.workspace("samples-cluster")
    folder = _project(tmp_path, "samples-cluster")
    first = outputs_of(execute(_notebook(folder, CLUSTER_PREAMBLE)))
    assert "creating a new compute target..." in first
    assert "'vmSize': 'STANDARD_D2_V2'" in first or "STANDARD_D2_V2" in first
    again = outputs_of(execute(_notebook(folder, CLUSTER_PREAMBLE)))  # the second time, it is found
    assert "found compute target. just use it. cpu-cluster" in again


def test_the_hyperdrive_sklearn_how_to(kernel_env, service, tmp_path):
    service.workspace("samples-hyperdrive")
    folder = _project(tmp_path, "samples-hyperdrive")
    (folder / "sklearn-iris").mkdir()
    (folder / "sklearn-iris" / "train_iris.py").write_text(TRAIN_IRIS_PY.lstrip())
    (folder / "conda_dependencies.yml").write_text(CONDA_YML.lstrip())
    nb = execute(_notebook(folder, HYPERDRIVE_SKLEARN))
    text = outputs_of(nb)
    assert "Accuracy of SVM classifier on test set: 0.97" in text  # the plain run, shown live
    arguments = nb.cells[3].outputs[0]["text"].splitlines()[0]
    assert arguments.startswith("['--kernel', '") and "'--penalty'" in arguments
    assert "'outputs/model.joblib'" in text
    assert "best: 0.97" in text or "best: 1.0" in text


def test_the_datasets_tutorial(kernel_env, service, tmp_path):
    import numpy as np
    from sklearn.datasets import load_diabetes, load_iris

    service.workspace("samples-datasets")
    folder = _project(tmp_path, "samples-datasets")
    scripts = folder / "train-dataset"
    scripts.mkdir()
    iris = load_iris(as_frame=True).frame
    iris.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
    iris.to_csv(scripts / "iris.csv", index=False)
    (scripts / "train_iris.py").write_text(TRAIN_IRIS_DATASET_PY.lstrip())
    (scripts / "train_diabetes.py").write_text(TRAIN_DIABETES_PY.lstrip())
    X, y = load_diabetes(return_X_y=True)
    (folder / "diabetes").mkdir()
    np.save(folder / "diabetes" / "features.npy", X)
    np.save(folder / "diabetes" / "labels.npy", y)
    nb = execute(_notebook(folder, DATASETS_TUTORIAL))
    text = outputs_of(nb)
    assert "sepal_length" in text and "5.1" in text  # the preview of take(3)
    assert "Accuracy of Decision Tree classifier on training set: 1.00" in text
    assert "files: ['features.npy', 'labels.npy']" in text and "loaded (442, 10) (442,)" in text
    assert "diabetes dataset 1 1" in text
